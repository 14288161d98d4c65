"""The SLA sweep: record each request crossing "at risk" and "breached" once, and tell people.

Everything is decided in SQL from the stored clocks (requests_queue.sla.deadlines), a few
INSERT … SELECT statements per threshold, whatever the backlog. A threshold is one of the
engine's levels (`engine.THRESHOLDS`: at risk at DUE_DAYS, breached at BREACH_DAYS):
- a running request is past a deadline of N business days exactly when its clock base lies at
  least N business days before now (`instant_before`): one index range per kind of base;
- a request whose clock stopped (waiting for the customer, or closed) is judged by the
  deadlines its stored clock says it reached; a closed one's breach is recorded, settled.

A mark is inserted already notified when its notice goes out in this sweep, and the emails
are built from the marks this sweep announced: one per person, to the assignee, or to every
manager when nobody active holds the request. A manager's email offers each request to an
available agent in one click (`escalation`). At-risk news waits for business hours;
breaches go out at once, and a breach overtakes an at-risk notice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..calendar import BusinessCalendar
from ..models import Account, ConsentRequest, RequestState, Role, User
from ..models.requests import OPEN_STATES
from ..models.sla import SlaEvent, SlaSweepState, SlaThreshold
from ..outbox import queue_email
from ..requests.notifications import SIGNATURE, desk_link
from ..time_zones import instant_text, reader_zone
from ..webhooks import queueing as webhooks
from .clock import calendar_key, is_business_time
from .deadlines import refresh_stale_clocks, running_reached, stopped_reached
from .engine import DAYS
from .escalation import Suggestion, offer_line, suggest_assignees

R, M, T = ConsentRequest, SlaEvent, SlaThreshold
MANAGERS = "managers"  # notified_to of requests nobody active holds
LISTED = 20  # requests named per section of an email; the rest are counted
COLUMNS = ["request_id", "threshold", "recorded_at", "notified_at", "notified_to"]
_MARKS = SlaEvent.__table__
Told = list[tuple[str, str, int]]  # (notified_to, threshold value, request id)


def sweep_sla(
    session: Session, calendar: BusinessCalendar, now: datetime, *, base_url: str
) -> dict[str, int]:
    """Mark new at-risk and breached requests, then notify; running it again changes nothing."""
    key = calendar_key(calendar)
    computed = refresh_stale_clocks(session, calendar, key).computed
    business = is_business_time(calendar, now)
    _settle_closed(session, now)
    # Only the sweep writes marks, one run at a time: those after `last` are this run's.
    last = session.scalar(sa.select(sa.func.max(M.id))) or 0
    state = session.get(SlaSweepState, 1)
    # Late breaches of closed requests: only past the last sweep (an earlier one was marked
    # while the request was open), unless the calendar changed or time went back since.
    since = (
        state.swept_at
        if state is not None and state.calendar_key == key and state.swept_at <= now
        else None
    )
    breached, told = _mark_breached(session, calendar, now, since)
    at_risk = _mark_at_risk(session, calendar, now, business)
    released = _release_pending(session, now) if business else []
    if state is None:
        session.add(SlaSweepState(id=1, swept_at=now, calendar_key=key))
    else:
        state.swept_at, state.calendar_key = now, key
    webhooks.sla_marks(session, last, now)  # every mark of this run, whoever is told
    emails = _notify(session, calendar, _announced(session, last, released), now, base_url)
    session.flush()
    return {
        "at_risk": at_risk,
        "breached": breached,
        "notified": told + (at_risk if business else 0) + len(released),
        "emails": emails,
        "clocks_computed": computed,
    }


def _insert(session: Session, query: sa.Select) -> int:
    """INSERT the marks `query` selects, skipping those recorded already; returns how many."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = (
        insert(_MARKS)
        .from_select(COLUMNS, query)
        .on_conflict_do_nothing(index_elements=["request_id", "threshold"])
        .execution_options(preserve_rowcount=True)  # an INSERT's count is not kept otherwise
    )
    return session.execute(stmt).rowcount


def _holder(assignee_id) -> sa.ColumnElement[str]:
    """The assignee's address when an active agent or manager holds it, else MANAGERS."""
    email = (
        sa.select(User.email)
        .where(
            User.id == assignee_id,
            User.is_active.is_(True),
            User.role.in_([Role.agent, Role.manager]),
        )
        .scalar_subquery()
    )
    return sa.func.coalesce(email, MANAGERS)


def _unmarked(request_id, threshold: T) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(M.request_id == request_id, M.threshold == threshold)


def _breached_already(request_id) -> sa.Exists:
    breach = aliased(M)
    return sa.exists().where(breach.request_id == request_id, breach.threshold == T.breached)


def _settle_closed(session: Session, now: datetime) -> None:
    """Decided, withdrawn or closed before anyone was told: nothing left to announce."""
    closed = sa.exists().where(R.id == M.request_id, R.state.not_in(OPEN_STATES))
    session.execute(
        sa.update(M)
        .where(M.notified_at.is_(None), closed)
        .values(notified_at=now, notified_to="")
        .execution_options(synchronize_session=False)
    )


def _mark_breached(
    session: Session, calendar: BusinessCalendar, now: datetime, since: datetime | None
) -> tuple[int, int]:
    """(breaches recorded, breaches told): running, waiting and just-closed requests (closed
    ones whose breach fell after `since`, when given)."""
    at = sa.literal(now, M.recorded_at.type)
    threshold = sa.literal(T.breached.value)
    told, days = 0, DAYS[T.breached.value]
    for past in running_reached(calendar, now, days):
        query = sa.select(R.id, threshold, at, at, _holder(R.assignee_id))
        told += _insert(session, query.where(past, _unmarked(R.id, T.breached)))
    stopped = sa.select(R.id).where(stopped_reached(now, days), _unmarked(R.id, T.breached))
    waiting = stopped.where(R.state == RequestState.awaiting_customer)
    told += _insert(session, waiting.add_columns(threshold, at, at, _holder(R.assignee_id)))
    # A breach found after the decision is recorded, but nobody needs telling any more.
    closed = stopped.where(R.state.not_in(OPEN_STATES))
    if since is not None:
        closed = closed.where(R.clock_breach_at > since)
    return told + _insert(session, closed.add_columns(threshold, at, at, sa.literal(""))), told


def _mark_at_risk(
    session: Session, calendar: BusinessCalendar, now: datetime, business: bool
) -> int:
    """Open requests past their due time; told at once during business hours."""
    at = sa.literal(now, M.recorded_at.type)
    threshold = sa.literal(T.at_risk.value)

    def marks(query: sa.Select) -> int:
        if not business:  # recorded now, told when the team opens
            return _insert(session, query.add_columns(threshold, at, sa.null(), sa.literal("")))
        # A request already breached is not announced as merely at risk.
        to = sa.case((_breached_already(R.id), ""), else_=_holder(R.assignee_id))
        return _insert(session, query.add_columns(threshold, at, at, to))

    marked, days = 0, DAYS[T.at_risk.value]
    for past in running_reached(calendar, now, days):
        marked += marks(sa.select(R.id).where(past, _unmarked(R.id, T.at_risk)))
    waiting = sa.select(R.id).where(
        R.state == RequestState.awaiting_customer,
        stopped_reached(now, days),
        _unmarked(R.id, T.at_risk),
    )
    return marked + marks(waiting)


def _release_pending(session: Session, now: datetime) -> Told:
    """Business hours: announce the at-risk marks recorded while the team was away."""
    marks = _MARKS.c
    assignee = sa.select(R.assignee_id).where(R.id == marks.request_id).scalar_subquery()
    to = sa.case((_breached_already(marks.request_id), ""), else_=_holder(assignee))
    return session.execute(
        sa.update(_MARKS)
        .where(marks.notified_at.is_(None), marks.threshold == T.at_risk)
        .values(notified_at=now, notified_to=to)
        .returning(
            _MARKS.c.notified_to, sa.type_coerce(_MARKS.c.threshold, sa.String), _MARKS.c.request_id
        )
    ).all()


Group = tuple[str, str]  # (notified_to, threshold value)


def _announced(session: Session, last: int, released: Told) -> dict[Group, tuple[int, list[int]]]:
    """What this sweep announced, per recipient and threshold: (how many, the first LISTED
    request ids). New marks are those after id `last`, inserted most overdue first; counting
    and listing them stays in SQL, however large the backlog."""
    marks = _MARKS.c
    new = sa.and_(marks.id > last, marks.notified_to != "")
    groups: dict[Group, tuple[int, list[int]]] = {}
    for to, threshold, request_id in released:  # recorded overnight: they lead their section
        if to:
            total, listed = groups.get((to, threshold), (0, []))
            groups[(to, threshold)] = (total + 1, [*listed, request_id][:LISTED])
    counted = session.execute(
        sa.select(marks.notified_to, sa.type_coerce(marks.threshold, sa.String), sa.func.count())
        .where(new)
        .group_by(marks.notified_to, marks.threshold)
    ).all()
    for to, threshold, total in counted:
        before, listed = groups.get((to, threshold), (0, []))
        room = LISTED - len(listed)
        if room > 0:
            listed = listed + list(
                session.scalars(
                    sa.select(marks.request_id)
                    .where(new, marks.notified_to == to, marks.threshold == threshold)
                    .order_by(marks.id)
                    .limit(room)
                )
            )
        groups[(to, threshold)] = (before + total, listed[:LISTED])
    return groups


@dataclass
class _Section:
    """One part of a notification: requests of one threshold, assigned or unassigned."""

    threshold: T
    unassigned: bool
    total: int
    listed: list = field(default_factory=list)


def _notify(
    session: Session,
    calendar: BusinessCalendar,
    announced: dict[Group, tuple[int, list[int]]],
    now: datetime,
    base_url: str,
) -> int:
    """Queue one email per person for what this sweep announced; returns how many."""
    if not announced:
        return 0
    ids = [request_id for _, listed in announced.values() for request_id in listed]
    details = {
        row.id: row
        for row in session.execute(
            sa.select(R.id, R.filed_at, Account.name, R.assignee_id)
            .join(Account, Account.id == R.account_id)
            .where(R.id.in_(ids))
        )
    }
    addresses = {to for to, _ in announced if to != MANAGERS}
    people = {u.email: u for u in session.scalars(sa.select(User).where(User.email.in_(addresses)))}
    managers = session.scalars(
        sa.select(User).where(User.role == Role.manager, User.is_active.is_(True))
    ).all()
    inbox: dict[int, list[_Section]] = defaultdict(list)
    users: dict[int, User] = {}
    for (to, threshold), (total, listed) in announced.items():
        rows = [details[i] for i in listed]
        section = _Section(T(threshold), to == MANAGERS, total, rows)
        for user in managers if to == MANAGERS else [people[to]]:
            users[user.id] = user
            inbox[user.id].append(section)
    # Managers can reassign: their alert offers each request to an available agent.
    offered = {row.id: row.assignee_id for s in inbox_of_managers(inbox, users) for row in s.listed}
    offers = suggest_assignees(session, calendar, now, offered.items()) if offered else {}
    for user_id, sections in inbox.items():
        user = users[user_id]
        zone = reader_zone(user, calendar.zone)
        offer = offers if user.role is Role.manager else None
        _send(session, user, sections, now, base_url, offer, zone)
    return len(inbox)


def inbox_of_managers(inbox: dict[int, list[_Section]], users: dict[int, User]):
    """The sections going to managers (one per manager and threshold)."""
    return [
        s for uid, sections in inbox.items() if users[uid].role is Role.manager for s in sections
    ]


HEADINGS = {
    T.breached: f"Breached: no decision after {DAYS[T.breached.value]} business days",
    T.at_risk: f"At risk: past the {DAYS[T.at_risk.value]}-business-day due time",
}


def _send(
    session,
    user: User,
    sections: list[_Section],
    now: datetime,
    base_url: str,
    offers: dict[int, Suggestion] | None = None,
    zone: tzinfo = UTC,
) -> None:
    """One alert to `user`, its times in `zone` (theirs, else the team's), the zone named."""
    sections.sort(key=lambda s: (s.threshold is not T.breached, s.unassigned))
    totals = defaultdict(int)
    lines: list[str] = []
    for section in sections:
        totals[section.threshold] += section.total
        whose = "unassigned" if section.unassigned else "assigned to you"
        lines += ["", f"{HEADINGS[section.threshold]} ({whose}): {section.total:,}"]
        for request_id, filed_at, account, _assignee in section.listed:
            lines.append(
                f"  R-{request_id:06d}  {account}  filed {instant_text(filed_at, zone)}  "
                f"{desk_link(base_url, request_id)}"
            )
            if offers is not None:
                lines.append(offer_line(base_url, request_id, offers.get(request_id)))
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
