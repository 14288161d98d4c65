"""Who is on shift: each agent's availability toggle and working hours, and the manager's
assignment settings (issue 15, fair assignment).

An agent is on shift when they are active, not away, and `now` falls inside their working
window of today in the team calendar: their own weekly hours, or the team's when they keep
none, always closed on the team's holidays (`BusinessCalendar.window`, the one rule of
windows). Nothing stored means available on the team's hours, and assignment switched off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .calendar import BusinessCalendar, Span, WeeklyHours
from .calendar_store import WEEKDAYS, hours_field
from .errors import ValidationError
from .models import Role, User
from .models.assignment import DEFAULT_MAX_OPEN, AgentHours, AgentShift, AssignmentSettings
from .sla.clock import is_business_time
from .statuses import Actor

MAX_OPEN_LIMIT = 1000


@dataclass(frozen=True)
class Settings:
    """The manager's choices: automatic assignment on or off, and the open-load cap."""

    is_enabled: bool = False
    max_open_per_agent: int = DEFAULT_MAX_OPEN


def load_settings(session: Session, *, lock: bool = False) -> Settings:
    """The stored settings (the defaults when none); `lock` row-locks them till the commit,
    which is how round robin takes its turns one at a time."""
    query = sa.select(AssignmentSettings).where(AssignmentSettings.id == 1)
    if lock:
        query = query.with_for_update()
    row = session.scalar(query.execution_options(populate_existing=True))
    if row is None:
        return Settings()
    return Settings(row.is_enabled, row.max_open_per_agent)


def update_settings(
    session: Session, is_enabled: bool, max_open_per_agent: int | None, actor: Actor, now: datetime
) -> Settings:
    """Switch automatic assignment on or off and set the cap on each agent's open requests."""
    if max_open_per_agent is None or not 1 <= max_open_per_agent <= MAX_OPEN_LIMIT:
        raise ValidationError(
            "max_open_per_agent", f"give a whole number from 1 to {MAX_OPEN_LIMIT}"
        )
    row = session.get(AssignmentSettings, 1)
    if row is None:
        row = AssignmentSettings(id=1)
        session.add(row)
    row.is_enabled = bool(is_enabled)
    row.max_open_per_agent = max_open_per_agent
    row.updated_at = now
    row.updated_by_id = actor.user_id
    session.flush()
    return Settings(row.is_enabled, row.max_open_per_agent)


def shift_of(session: Session, user_id: int, now: datetime) -> AgentShift:
    """The user's shift row, created (available, team hours) on first use."""
    shift = session.get(AgentShift, user_id)
    if shift is None:
        shift = AgentShift(user_id=user_id, is_away=False, has_own_hours=False, changed_at=now)
        session.add(shift)
        session.flush()
    return shift


def is_away(session: Session, user_id: int) -> bool:
    """The support user switched themselves to "away"."""
    return bool(session.scalar(sa.select(AgentShift.is_away).where(AgentShift.user_id == user_id)))


def set_availability(session: Session, user: User, available: bool, now: datetime) -> None:
    """The agent flips their own toggle: "available" (assignable on shift) or "away"."""
    if not user.is_support:
        raise ValidationError("available", "only agents and managers have an availability")
    shift = shift_of(session, user.id, now)
    shift.is_away = not available
    shift.changed_at = now
    session.flush()


def own_hours(session: Session, user_id: int) -> WeeklyHours | None:
    """The agent's own weekly hours, or None when they work the team's."""
    shift = session.get(AgentShift, user_id)
    if shift is None or not shift.has_own_hours:
        return None
    rows = session.scalars(sa.select(AgentHours).where(AgentHours.user_id == user_id))
    return WeeklyHours({row.weekday: (row.opens, row.closes) for row in rows})


def set_working_hours(
    session: Session, user: User, hours: Mapping[int, Span | None] | None, now: datetime
) -> None:
    """Give an agent their own weekly hours (team time), or None to follow the team's."""
    if not user.is_support:
        raise ValidationError("user", "only agents and managers have working hours")
    checked: dict[int, Span] = {}
    for weekday, span in (hours or {}).items():
        if span is None:
            continue
        if not span[0] < span[1]:
            raise ValidationError(
                hours_field(weekday), f"{WEEKDAYS[weekday]}: start must be before the end"
            )
        checked[weekday] = span
    shift = shift_of(session, user.id, now)
    shift.has_own_hours = hours is not None
    shift.changed_at = now
    session.execute(sa.delete(AgentHours).where(AgentHours.user_id == user.id))
    session.add_all(
        AgentHours(user_id=user.id, weekday=wd, opens=span[0], closes=span[1])
        for wd, span in checked.items()
    )
    session.flush()


@dataclass(frozen=True)
class Availability:
    """One support user as assignment sees them now."""

    user: User
    is_away: bool
    hours: WeeklyHours | None  # None: the team's
    on_shift: bool
    last_turn: int  # round robin: lowest goes next


def availability(
    session: Session, calendar: BusinessCalendar, now: datetime, *, roles=(Role.agent,)
) -> list[Availability]:
    """Every active support user of `roles` with their toggle, hours and whether on shift."""
    rows = session.execute(
        sa.select(User, AgentShift)
        .outerjoin(AgentShift, AgentShift.user_id == User.id)
        .where(User.role.in_(roles), User.is_active.is_(True))
        .order_by(User.id)
        .execution_options(populate_existing=True)
    ).all()
    own: dict[int, dict[int, Span]] = {}
    ids = [user.id for user, shift in rows if shift is not None and shift.has_own_hours]
    if ids:
        for row in session.scalars(sa.select(AgentHours).where(AgentHours.user_id.in_(ids))):
            own.setdefault(row.user_id, {})[row.weekday] = (row.opens, row.closes)
    out = []
    for user, shift in rows:
        hours = WeeklyHours(own.get(user.id, {})) if user.id in ids else None
        away = shift is not None and shift.is_away
        working = calendar if hours is None else replace(calendar, hours=hours)
        on_shift = not away and is_business_time(working, now)
        turn = shift.last_turn if shift is not None else 0
        out.append(Availability(user, away, hours, on_shift, turn))
    return out
