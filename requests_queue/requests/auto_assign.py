"""Fair assignment (issue 15): round robin of new requests among the agents on shift, capped
by each agent's open load, and the work of an assignee gone away or off shift returned to the
pool before it is at risk.

Every choice happens under the row lock of `assignment_settings` (`load_settings(lock=True)`),
held until the caller commits: two requests filed at once, or two schedulers running the job,
take their turns one after the other and each sees the load the other left. Assigning goes
through `lifecycle.assign_request` (the one assign path, as the system); giving back is one
set-based UPDATE with its timeline events. Nothing happens while the manager has it off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..calendar import BusinessCalendar
from ..calendar_store import load_calendar
from ..models import ConsentRequest, RequestEvent, RequestState, Role, User
from ..models.assignment import AgentShift
from ..models.requests import OPEN_STATES
from ..shifts import Availability, Settings, availability, load_settings, shift_of
from ..sla.clock import instant_before
from ..sla.deadlines import running_past
from ..sla.engine import DUE_DAYS
from ..statuses import Actor, ActorKind
from ..webhooks import queueing as webhooks
from .lifecycle import assign_request
from .state_machine import EVENT_OF, Action, check_action

R = ConsentRequest
SYSTEM = Actor(ActorKind.system)
# Work goes back to the pool once this many business hours are left before it is at risk;
# the job runs every minute, so it is always back well before.
RELEASE_LEAD_HOURS = 1.0
ROUND_ROBIN = "Assigned automatically (round robin)"


@dataclass
class Turns:
    """The agents round robin may choose from now, with their open load, kept up to date as
    it assigns."""

    settings: Settings
    agents: list[Availability]
    loads: dict[int, int] = field(default_factory=dict)
    turns: dict[int, int] = field(default_factory=dict)  # each agent's last turn (0: never)
    latest: int = 0  # the last turn given to anyone

    def next_agent(self) -> User | None:
        """The on-shift agent under the cap whose turn it is: assigned longest ago (or never),
        then the lowest id; None when nobody can take more."""
        cap = self.settings.max_open_per_agent
        free = [a for a in self.agents if a.on_shift and self.loads.get(a.user.id, 0) < cap]
        if not free:
            return None
        chosen = min(free, key=lambda a: (self.turns.get(a.user.id, 0), a.user.id))
        return chosen.user

    def took(self, user: User) -> int:
        """`user` was just given one more request; returns their new turn."""
        self.loads[user.id] = self.loads.get(user.id, 0) + 1
        self.latest += 1
        self.turns[user.id] = self.latest
        return self.latest


def open_loads(session: Session) -> dict[int, int]:
    """Open requests per assignee (one GROUP BY)."""
    rows = session.execute(
        sa.select(R.assignee_id, sa.func.count())
        .where(R.state.in_(OPEN_STATES), R.assignee_id.is_not(None))
        .group_by(R.assignee_id)
    )
    return {assignee: count for assignee, count in rows}


def _turns(session: Session, settings: Settings, calendar: BusinessCalendar, now: datetime):
    agents = availability(session, calendar, now, roles=(Role.agent,))
    latest = session.scalar(sa.select(sa.func.max(AgentShift.last_turn))) or 0
    turns = {a.user.id: a.last_turn for a in agents}
    return Turns(settings, agents, open_loads(session), turns, latest)


def _give(session: Session, turns: Turns, req: ConsentRequest, now: datetime) -> User | None:
    user = turns.next_agent()
    if user is None:
        return None
    load = turns.loads.get(user.id, 0) + 1
    cap = turns.settings.max_open_per_agent
    body = f"{ROUND_ROBIN}: {user.display_name} is on shift with {load} of {cap} open requests."
    assign_request(session, req, user, SYSTEM, now, body=body)
    shift = shift_of(session, user.id, now)
    shift.last_turn, shift.last_assigned_at = turns.took(user), now
    return user


def auto_assign(session: Session, req: ConsentRequest, now: datetime) -> User | None:
    """Give a newly filed request to the next agent on shift, if the manager turned automatic
    assignment on and someone is under the cap; returns who got it. The caller commits."""
    settings = load_settings(session, lock=True)
    if not settings.is_enabled:
        return None
    turns = _turns(session, settings, load_calendar(session), now)
    return _give(session, turns, req, now)


def _skip_locked(session: Session, query: sa.Select) -> sa.Select:
    """Rows another transaction is acting on are left for the next run (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(of=R, skip_locked=True)
    return query


def release_unavailable(
    session: Session, calendar: BusinessCalendar, now: datetime, on_shift: dict[int, Availability]
) -> int:
    """Return to the pool, in one UPDATE, the requests in review whose assignee is away, off
    shift or deactivated and that have at most RELEASE_LEAD_HOURS business hours left before
    they are at risk (or are past it); each gets a timeline event saying why."""
    check_action(RequestState.in_review, Action.release, SYSTEM.kind)  # the one rule book
    hours = max(DUE_DAYS * calendar.hours_per_day - RELEASE_LEAD_HOURS, 0.0)
    cutoff = instant_before(calendar, now, hours)
    if cutoff is None:
        return 0
    holders = R.assignee_id.not_in(list(on_shift)) if on_shift else R.assignee_id.is_not(None)
    candidates = _skip_locked(
        session,
        sa.select(R.id, R.assignee_id).where(
            R.state == RequestState.in_review, holders, sa.or_(*running_past(cutoff))
        ),
    )
    chosen = dict(session.execute(candidates).all())
    if not chosen:
        return 0
    session.execute(
        sa.update(R)
        .where(R.id.in_(list(chosen)), R.state == RequestState.in_review)
        .values(state=RequestState.submitted, assignee_id=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    why = _why_not_on_shift(session, set(chosen.values()), now)
    events = [
        RequestEvent(
            request_id=request_id,
            kind=EVENT_OF[Action.release],
            created_at=now,
            actor_kind=ActorKind.system,
            from_state=RequestState.in_review,
            to_state=RequestState.submitted,
            assignee_id=None,
            body=f"Returned to the pool before it is at risk: {why[holder]}.",
        )
        for request_id, holder in chosen.items()
    ]
    session.add_all(events)
    session.flush()
    requests = {
        req.id: req
        for req in session.scalars(
            sa.select(R).where(R.id.in_(list(chosen))).execution_options(populate_existing=True)
        )
    }
    for event in events:
        webhooks.request_moved(session, requests[event.request_id], event, now)
    return len(chosen)


def _why_not_on_shift(session: Session, user_ids: set[int], now: datetime) -> dict[int, str]:
    rows = session.execute(
        sa.select(User.id, User.name, User.email, User.is_active, AgentShift.is_away)
        .outerjoin(AgentShift, AgentShift.user_id == User.id)
        .where(User.id.in_(user_ids))
    )
    out = {}
    for user_id, name, email, active, away in rows:
        state = "is no longer active" if not active else "is away" if away else "is off shift"
        out[user_id] = f"{name or email} {state}"
    return out


def assign_pool(session: Session, turns: Turns, now: datetime, *, limit: int | None = None) -> int:
    """Give unassigned submitted requests, most urgent first, to the agents on shift by round
    robin until everyone is at the cap; returns how many were assigned."""
    cap = turns.settings.max_open_per_agent
    room = sum(max(cap - turns.loads.get(a.user.id, 0), 0) for a in turns.agents if a.on_shift)
    room = min(room, limit) if limit is not None else room
    if room <= 0:
        return 0
    base = sa.func.coalesce(R.clock_base_at, R.filed_at)
    pool = _skip_locked(
        session,
        sa.select(R)
        .where(R.state == RequestState.submitted, R.assignee_id.is_(None))
        .order_by(base, R.id)
        .limit(room),
    )
    assigned = 0
    for req in session.scalars(pool).all():
        if _give(session, turns, req, now) is None:
            break
        assigned += 1
    return assigned


def balance_assignments(session: Session, now: datetime) -> dict[str, int]:
    """The job: give back the work of assignees not on shift before it is at risk, then
    assign the pool round robin. Does nothing while automatic assignment is off."""
    settings = load_settings(session, lock=True)
    if not settings.is_enabled:
        return {"released": 0, "assigned": 0}
    calendar = load_calendar(session)
    support = availability(session, calendar, now, roles=(Role.agent, Role.manager))
    on_shift = {a.user.id: a for a in support if a.on_shift}
    released = release_unavailable(session, calendar, now, on_shift)
    turns = _turns(session, settings, calendar, now)
    return {"released": released, "assigned": assign_pool(session, turns, now)}
