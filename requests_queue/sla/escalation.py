"""Escalation with action (issue 15): who could take a request that crossed an SLA threshold,
the one-click reassignment link the alerts carry, and the agents holding the most at-risk work.

An available agent is an active agent who is not marked away (`shifts.availability`); those on
shift now come first, then the fewest open requests, then the lowest id. Several requests
suggested at once are spread as if each suggestion were taken, so one alert does not send
everything to the same person. The link only opens a confirm page: reassigning is the
manager's POST there, through `lifecycle.assign_request` (its timeline event included).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..calendar import BusinessCalendar
from ..models import ConsentRequest, RequestState, Role, User
from ..models.requests import OPEN_STATES
from ..requests.auto_assign import open_loads
from ..shifts import availability
from .deadlines import reached_now
from .engine import AT_RISK, BREACHED, RUNNING_STATES, at_level, running_clock
from .line import line_for, micros

R = ConsentRequest


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An agent who could take a request now, with the open load they would then carry."""

    user: User
    on_shift: bool
    load: int  # open requests they hold before taking this one


def suggest_assignees(
    session: Session,
    calendar: BusinessCalendar,
    now: datetime,
    requests: Iterable[tuple[int, int | None]],
) -> dict[int, Suggestion]:
    """For (request id, current assignee id) pairs, an available agent other than the current
    assignee; a request nobody can take is left out."""
    agents = [a for a in availability(session, calendar, now, roles=(Role.agent,)) if not a.is_away]
    loads = open_loads(session)
    out: dict[int, Suggestion] = {}
    for request_id, holder in requests:
        free = [a for a in agents if a.user.id != holder]
        if not free:
            continue
        best = min(free, key=lambda a: (not a.on_shift, loads.get(a.user.id, 0), a.user.id))
        out[request_id] = Suggestion(best.user, best.on_shift, loads.get(best.user.id, 0))
        loads[best.user.id] = loads.get(best.user.id, 0) + 1
    return out


def reassign_link(base_url: str, request_id: int, user_id: int) -> str:
    """The manager's confirm page for giving a request to `user_id` (a GET changes nothing)."""
    return f"{base_url.rstrip('/')}/manager/requests/{request_id}/reassign?to={user_id}"


def offer_line(base_url: str, request_id: int, suggestion: Suggestion | None) -> str:
    """The alert's one-click offer for one request, as a line of plain-text email."""
    if suggestion is None:
        return "    No agent is available to take it: choose one on the dashboard."
    user = suggestion.user
    shift = "on shift" if suggestion.on_shift else "off shift now"
    return (
        f"    Reassign to {user.display_name} ({shift}, {suggestion.load} open): "
        f"{reassign_link(base_url, request_id, user.id)}"
    )


@dataclass(frozen=True, slots=True)
class AgentRisk:
    """An assignee's open requests past a threshold, and the most overdue of them."""

    user: User
    at_risk: int  # at risk, breached ones included
    breached: int
    oldest: list[tuple[int, int | None]]  # (request id, assignee id), longest past due first


def agents_with_most_at_risk(
    session: Session, calendar: BusinessCalendar, now: datetime, limit: int = 5, listed: int = 3
) -> list[AgentRisk]:
    """The assignees holding the most open at-risk requests (breached included) at `now`, most
    first: the engine's levels (`engine.at_level`) of the stored clocks as they stand
    (`deadlines.reached_now`), what the queue shows, whenever the sweep last ran."""
    reached = reached_now(calendar, now)
    breached = at_level(BREACHED, reached)
    past_due = sa.and_(
        R.state.in_(OPEN_STATES),
        R.assignee_id.is_not(None),
        sa.or_(breached, at_level(AT_RISK, reached)),
    )
    at_risk = sa.func.count()
    rows = session.execute(
        sa.select(R.assignee_id, at_risk, sa.func.count().filter(breached))
        .where(past_due)
        .group_by(R.assignee_id)
        .order_by(at_risk.desc(), R.assignee_id)
        .limit(limit)
    ).all()
    if not rows:
        return []
    users = {
        u.id: u for u in session.scalars(sa.select(User).where(User.id.in_([r[0] for r in rows])))
    }
    out = []
    for assignee_id, count, n_breached in rows:
        oldest = _longest_past_due(session, calendar, past_due, assignee_id, listed)
        out.append(
            AgentRisk(users[assignee_id], count, n_breached, [(i, assignee_id) for i in oldest])
        )
    return out


def _longest_past_due(
    session: Session,
    calendar: BusinessCalendar,
    past_due: sa.ColumnElement[bool],
    assignee_id: int,
    listed: int,
) -> list[int]:
    """The `listed` requests of an assignee longest past their due time, earliest due first.

    A running request's due time follows its base (the queue's deadline order), a waiting
    one's is stored: the first `listed` of each, then their due times compared (the engine's
    `running_clock`, read as the queue's countdowns read it)."""
    mine = sa.and_(past_due, R.assignee_id == assignee_id)
    running = session.execute(
        sa.select(R.id, R.filed_at, R.clock_base_at, R.clock_due_at, R.clock_breach_at)
        .where(mine, R.state.in_(RUNNING_STATES))
        .order_by(sa.func.coalesce(R.clock_base_at, R.filed_at), R.id)
        .limit(listed)
    ).all()
    waiting = session.execute(
        sa.select(R.id, R.clock_due_at)
        .where(mine, R.state == RequestState.awaiting_customer)
        .order_by(R.clock_due_at, R.id)
        .limit(listed)
    ).all()
    line, day = line_for(calendar), calendar.hours_per_day
    due = {request_id: micros(due_at) for request_id, due_at in waiting}
    for request_id, filed_at, base_at, due_at, breach_at in running:
        stored = (due_at, breach_at) if base_at is not None else None
        due[request_id] = running_clock(line, base_at or filed_at, day, stored).due
    return sorted(due, key=lambda request_id: (due[request_id], request_id))[:listed]
