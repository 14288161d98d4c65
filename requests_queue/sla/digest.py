"""The managers' morning digest: breached, at risk, unassigned, the oldest open requests, and
the agents holding the most at-risk work, each request offered to an available agent.

Sent once per team-local business day (the `sla_digests` row is the proof), so a scheduler
that runs the job twice, or catches up after a restart, sends it once.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..calendar import BusinessCalendar
from ..models import Account, ConsentRequest, Role, User
from ..models.requests import OPEN_STATES
from ..models.sla import SlaDigest
from ..outbox import queue_email
from ..requests.notifications import SIGNATURE, desk_link
from .deadlines import reached_now
from .engine import AT_RISK, BREACHED, DAYS, at_level
from .escalation import agents_with_most_at_risk, offer_line, suggest_assignees

R = ConsentRequest
OLDEST = 10


def digest_numbers(session: Session, calendar: BusinessCalendar, now: datetime) -> dict[str, int]:
    """Open requests by SLA level at `now`, counted in SQL: the engine's levels
    (`engine.at_level`) of each request's stored clock as it stands (`deadlines.reached_now`),
    what the queue shows, whenever the sweep last ran."""
    is_open = R.state.in_(OPEN_STATES)
    reached = reached_now(calendar, now)
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(at_level(BREACHED, reached)),
            sa.func.count().filter(at_level(AT_RISK, reached)),
            sa.func.count().filter(R.assignee_id.is_(None)),
        ).where(is_open)
    ).one()
    return dict(zip(("open", "breached", "at_risk", "unassigned"), row, strict=True))


def send_daily_digest(
    session: Session, calendar: BusinessCalendar, now: datetime, *, base_url: str
) -> dict[str, int]:
    """Email every active manager today's numbers, once per business day."""
    today = now.astimezone(calendar.zone).date()
    if calendar.window(today) is None:
        return {"sent": 0, "closed_day": 1}
    if session.get(SlaDigest, today) is not None:
        return {"sent": 0, "already_sent": 1}
    managers = session.scalars(
        sa.select(User).where(User.role == Role.manager, User.is_active.is_(True))
    ).all()
    numbers = digest_numbers(session, calendar, now)
    oldest = session.execute(
        sa.select(R.id, R.filed_at, R.state, Account.name)
        .join(Account, Account.id == R.account_id)
        .where(R.state.in_(OPEN_STATES))
        .order_by(R.filed_at, R.id)
        .limit(OLDEST)
    ).all()
    lines = [
        f"Consent Desk, {today:%A %d %B %Y}",
        "",
        f"Breached (over {DAYS[BREACHED]} business days): {numbers['breached']:,}",
        f"At risk (over {DAYS[AT_RISK]} business days):  {numbers['at_risk']:,}",
        f"Unassigned:                      {numbers['unassigned']:,}",
        f"Open in total:                   {numbers['open']:,}",
    ]
    if oldest:
        lines += ["", "Oldest open requests:"]
        lines += [
            f"  R-{rid:06d}  {account}  {state.title}  filed {filed:%Y-%m-%d}  "
            f"{desk_link(base_url, rid)}"
            for rid, filed, state, account in oldest
        ]
    lines += _most_at_risk(session, calendar, now, base_url)
    # The row first: if another run got here at the same moment, its flush fails this one.
    session.add(SlaDigest(day=today, sent_at=now, recipients=len(managers)))
    session.flush()
    for manager in managers:
        queue_email(
            session,
            to=manager.email,
            subject=(
                f"SLA digest {today:%d %b}: {numbers['breached']} breached, "
                f"{numbers['at_risk']} at risk, {numbers['unassigned']} unassigned"
            ),
            text="\n".join(lines) + SIGNATURE,
            now=now,
            kind="sla_digest",
            user_id=manager.id,
        )
    return {"sent": len(managers)}


def _most_at_risk(
    session: Session, calendar: BusinessCalendar, now: datetime, base_url: str
) -> list[str]:
    """The digest's lines on the agents with the most at-risk work, with one-click offers."""
    agents = agents_with_most_at_risk(session, calendar, now)
    if not agents:
        return []
    offers = suggest_assignees(session, calendar, now, [p for a in agents for p in a.oldest])
    lines = ["", "Agents with the most at-risk work:"]
    for agent in agents:
        breached = f", {agent.breached:,} of them breached" if agent.breached else ""
        lines.append(f"  {agent.user.display_name}: {agent.at_risk:,} at risk{breached}")
        for request_id, _ in agent.oldest:
            lines.append(f"    R-{request_id:06d}  {desk_link(base_url, request_id)}")
            lines.append(offer_line(base_url, request_id, offers.get(request_id)))
    return lines
