"""The SLA sweep: record each request crossing "at risk" and "breached" once, and tell people.

Candidates are found in SQL. A request that never waited for the customer is past a deadline
of N business days exactly when it was filed at least N business days ago (`instant_before`),
so those are marked with one INSERT … SELECT. Requests whose clock paused, and recently
closed ones, have their deadlines computed from their timeline into `sla_clocks` (again only
when a new event or a calendar edit makes the cached row stale) and are marked from there.

Notifications go to the assignee, or to every manager when nobody has the request, one email
per person per sweep. At-risk news waits for business hours; breaches go out at once.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..calendar import BusinessCalendar
from ..models import Account, ConsentRequest, RequestEvent, RequestState, Role, User
from ..models.requests import OPEN_STATES
from ..models.sla import SlaClock, SlaEvent, SlaThreshold
from ..outbox import queue_email
from ..requests.notifications import SIGNATURE, desk_link
from .clock import (
    BREACH_DAYS,
    DUE_DAYS,
    calendar_key,
    deadlines,
    instant_before,
    is_business_time,
)

R, E, M, C, T = ConsentRequest, RequestEvent, SlaEvent, SlaClock, SlaThreshold
DAYS = {T.at_risk: DUE_DAYS, T.breached: BREACH_DAYS}
# Closed requests are checked for a late breach this long after they closed.
CLOSED_LOOKBACK = timedelta(days=14)
CHUNK = 2000
LISTED = 20  # requests named per section of an email; the rest are counted


def sweep_sla(
    session: Session, calendar: BusinessCalendar, now: datetime, *, base_url: str
) -> dict[str, int]:
    """Mark new at-risk and breached requests, then notify; running it again changes nothing."""
    key = calendar_key(calendar)
    clocks = refresh_clocks(session, calendar, now, key)
    counts = {t.value: _mark(session, calendar, now, t, key) for t in (T.at_risk, T.breached)}
    counts |= _notify(session, calendar, now, base_url)
    counts["clocks_computed"] = clocks
    session.flush()
    return counts


def _insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(M)


def _ever_paused() -> sa.Exists:
    return sa.exists().where(E.request_id == R.id, E.to_state == RequestState.awaiting_customer)


def _needs_clock(now: datetime) -> sa.ColumnElement[bool]:
    """Requests plain SQL cannot judge: open ones that paused, and recently closed ones."""
    return sa.or_(
        sa.and_(R.state.in_(OPEN_STATES), _ever_paused()),
        sa.and_(R.state.not_in(OPEN_STATES), R.updated_at >= now - CLOSED_LOOKBACK),
    )


def refresh_clocks(session: Session, calendar: BusinessCalendar, now: datetime, key: str) -> int:
    """Recompute the cached deadlines that a new event or a calendar edit made stale."""
    last_event = sa.select(sa.func.max(E.id)).where(E.request_id == C.request_id)
    fresh = sa.exists().where(
        C.request_id == R.id, C.calendar_key == key, C.last_event_id == last_event.scalar_subquery()
    )
    stale = session.scalars(sa.select(R.id).where(_needs_clock(now), ~fresh)).all()
    per_day = calendar.hours_per_day
    for start in range(0, len(stale), CHUNK):
        chunk = stale[start : start + CHUNK]
        moves = session.execute(
            sa.select(E.request_id, E.id, E.to_state, E.created_at)
            .where(E.request_id.in_(chunk))
            .order_by(E.request_id, E.id)
        ).all()
        rows = []
        for request_id, events in itertools.groupby(moves, key=lambda row: row[0]):
            events = list(events)
            due, breach = deadlines(
                calendar, ((e[2], e[3]) for e in events), (DUE_DAYS, BREACH_DAYS), per_day
            )
            rows.append(
                {"request_id": request_id, "last_event_id": events[-1][1], "calendar_key": key,
                 "due_at": due, "breach_at": breach}
            )  # fmt: skip
        clocks = C.__table__  # Core statements: one executemany, no ORM bookkeeping
        session.execute(sa.delete(clocks).where(clocks.c.request_id.in_(chunk)))
        if rows:
            session.execute(sa.insert(clocks), rows)
    closed_long_ago = sa.select(R.id).where(
        R.state.not_in(OPEN_STATES), R.updated_at < now - CLOSED_LOOKBACK
    )
    session.execute(sa.delete(C).where(C.request_id.in_(closed_long_ago)))
    return len(stale)


def _mark(
    session: Session, calendar: BusinessCalendar, now: datetime, threshold: T, key: str
) -> int:
    unmarked = ~sa.exists().where(M.request_id == R.id, M.threshold == threshold)
    recorded = sa.literal(now, M.recorded_at.type)
    queries = []
    cutoff = instant_before(calendar, now, DAYS[threshold] * calendar.hours_per_day)
    if cutoff is not None:
        queries.append(
            sa.select(R.id, sa.literal(threshold.value), recorded, sa.null())
            .where(R.state.in_(OPEN_STATES), R.filed_at <= cutoff, unmarked, ~_ever_paused())
        )  # fmt: skip
    deadline = C.due_at if threshold is T.at_risk else C.breach_at
    is_open = R.state.in_(OPEN_STATES)
    # A closed request's breach is recorded, but nobody needs telling any more.
    settled = sa.case((is_open, sa.null()), else_=recorded)
    from_clocks = (
        sa.select(C.request_id, sa.literal(threshold.value), recorded, settled)
        .join(R, R.id == C.request_id)
        .where(C.calendar_key == key, deadline <= now, unmarked)
    )
    if threshold is T.at_risk:  # "at risk" is a state of open requests only
        from_clocks = from_clocks.where(is_open)
    queries.append(from_clocks)
    marked = 0
    for query in queries:
        stmt = (
            _insert(session)
            .from_select(["request_id", "threshold", "recorded_at", "notified_at"], query)
            .on_conflict_do_nothing(index_elements=["request_id", "threshold"])
            .returning(M.id)
        )
        marked += len(session.execute(stmt).all())
    return marked


@dataclass
class _Section:
    """One part of a notification: requests of one threshold, assigned or unassigned."""

    threshold: T
    unassigned: bool
    total: int
    listed: list = field(default_factory=list)


def _notify(
    session: Session, calendar: BusinessCalendar, now: datetime, base_url: str
) -> dict[str, int]:
    pending = M.notified_at.is_(None)
    # Decided, withdrawn or closed before anyone was told: nothing left to do about it.
    session.execute(
        sa.update(M)
        .where(pending, M.request_id.in_(sa.select(R.id).where(R.state.not_in(OPEN_STATES))))
        .values(notified_at=now, notified_to="")
        .execution_options(synchronize_session=False)
    )
    due = [T.breached, T.at_risk] if is_business_time(calendar, now) else [T.breached]
    breach = aliased(M)
    newsworthy = sa.and_(
        pending,
        M.threshold.in_(due),
        # A request already breached is not announced as merely at risk.
        sa.or_(
            M.threshold == T.breached,
            ~sa.exists().where(breach.request_id == M.request_id, breach.threshold == T.breached),
        ),
    )
    holder = sa.case(
        (sa.and_(User.is_active.is_(True), User.role.in_([Role.agent, Role.manager])), User.id),
        else_=None,
    )
    groups = session.execute(
        sa.select(holder, M.threshold, sa.func.count())
        .select_from(M)
        .join(R, R.id == M.request_id)
        .outerjoin(User, User.id == R.assignee_id)
        .where(newsworthy)
        .group_by(holder, M.threshold)
    ).all()
    inbox: dict[int, list[_Section]] = defaultdict(list)
    managers = session.scalars(
        sa.select(User.id).where(User.role == Role.manager, User.is_active.is_(True))
    ).all()
    for user_id, threshold, total in groups:
        who = (User.id == user_id) if user_id is not None else holder.is_(None)
        listed = _listed(session, sa.and_(newsworthy, who, M.threshold == threshold))
        section = _Section(threshold, user_id is None, total, listed)
        for recipient in [user_id] if user_id is not None else managers:
            inbox[recipient].append(section)
    for user_id, sections in inbox.items():
        _send(session, session.get(User, user_id), sections, now, base_url)
    told = sa.func.coalesce(
        sa.select(User.email)
        .join(R, R.assignee_id == User.id)
        .where(R.id == M.request_id, User.is_active.is_(True))
        .scalar_subquery(),
        "managers",
    )
    notified = session.execute(
        sa.update(M)
        .where(pending, M.threshold.in_(due))
        .values(notified_at=now, notified_to=told)
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"notified": notified, "emails": len(inbox)}


def _listed(session: Session, condition) -> list:
    return session.execute(
        sa.select(R.id, R.filed_at, Account.name)
        .select_from(M)
        .join(R, R.id == M.request_id)
        .join(Account, Account.id == R.account_id)
        .outerjoin(User, User.id == R.assignee_id)
        .where(condition)
        .order_by(R.filed_at, R.id)
        .limit(LISTED)
    ).all()


HEADINGS = {
    T.breached: "Breached: no decision after 5 business days",
    T.at_risk: "At risk: past the 3-business-day due time",
}


def _send(session, user: User, sections: list[_Section], now: datetime, base_url: str) -> None:
    sections.sort(key=lambda s: (s.threshold is not T.breached, s.unassigned))
    totals = defaultdict(int)
    lines: list[str] = []
    for section in sections:
        totals[section.threshold] += section.total
        whose = "unassigned" if section.unassigned else "assigned to you"
        lines += ["", f"{HEADINGS[section.threshold]} ({whose}): {section.total:,}"]
        for request_id, filed_at, account in section.listed:
            lines.append(
                f"  R-{request_id:06d}  {account}  filed {filed_at:%Y-%m-%d %H:%M} UTC  "
                f"{desk_link(base_url, request_id)}"
            )
        if section.total > len(section.listed):
            lines.append(f"  … and {section.total - len(section.listed):,} more in the queue.")
    summary = ", ".join(f"{totals[t]:,} {t.title.lower()}" for t in HEADINGS if totals[t])
    queue_email(
        session,
        to=user.email,
        subject=f"SLA: {summary}",
        text="Requests that crossed an SLA threshold since the last notice:\n"
        + "\n".join(lines)
        + SIGNATURE,
        now=now,
        kind="sla_alert",
        user_id=user.id,
    )
