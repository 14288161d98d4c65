"""A request's SLA as the desk reads it, from its timeline and the team calendar (the clock
itself is `engine.clock_of`): deadlines as datetimes, the calendar's fingerprint that stored
clocks carry, and the cutoffs the SQL of the sweep and the reminders compare with.

The same events and the same calendar always give the same deadlines, and a calendar edit moves
every open request's deadlines the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..calendar import BusinessCalendar
from ..models import RequestEvent, RequestEventKind, RequestState
from ..statuses import ActorKind
from .engine import Clock, clock_of, moment
from .line import MICRO, PER_HOUR, line_for, micros

DECIDED = frozenset({RequestEventKind.approved, RequestEventKind.rejected})
FIRST_RESPONSES = frozenset(
    {RequestEventKind.claimed, RequestEventKind.assigned, RequestEventKind.question}
)


def is_first_response(event) -> bool:
    """A person of support took the request up (claimed, assigned it, asked); round robin's
    automatic assignment is not a response (an event row with kind and actor_kind)."""
    return event.kind in FIRST_RESPONSES and event.actor_kind is not ActorKind.system


def calendar_key(calendar: BusinessCalendar) -> str:
    """A short fingerprint of everything that moves deadlines (cached clocks carry it)."""
    parts = (
        calendar.timezone,
        tuple(calendar.hours[wd] for wd in range(7)),
        calendar.country,
        calendar.subdivision,
        sorted(calendar.added_holidays),
        sorted(calendar.removed_holidays),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


@dataclass(frozen=True)
class RequestSla:
    """A request's deadlines and where its clock stands (instants are aware UTC)."""

    filed_at: datetime
    state: RequestState
    due_at: datetime | None  # None: paused before the clock got there
    breach_at: datetime | None
    first_response_due_at: datetime | None
    first_response_at: datetime | None
    decided_at: datetime | None
    active_hours: float  # business hours the clock ran so far
    clock: Clock  # the engine's clock these figures come from

    @property
    def is_paused(self) -> bool:
        """Waiting for the customer: the clock stands still."""
        return self.state is RequestState.awaiting_customer

    @property
    def is_open(self) -> bool:
        """Not decided, withdrawn or closed."""
        return self.state.is_open

    def is_at_risk(self, now: datetime) -> bool:
        """Past the due time and still open."""
        return self.is_open and self.clock.is_at_risk(micros(now))

    def is_breached(self, now: datetime) -> bool:
        """The clock passed 5 business days (a closed request keeps the breach it had)."""
        return self.clock.is_breached(micros(now))


def request_sla(
    calendar: BusinessCalendar, events: Sequence[RequestEvent], now: datetime
) -> RequestSla:
    """The SLA of one request from its complete timeline (oldest first or not)."""
    ordered = sorted(events, key=lambda e: e.id)
    if not ordered or ordered[0].kind is not RequestEventKind.filed:
        raise ValueError("a request's timeline starts with its filing")
    line = line_for(calendar)
    moves = [(e.to_state, micros(e.created_at)) for e in ordered]
    clock = clock_of(line, moves, calendar.hours_per_day, first_response=True)
    first = next((e.created_at for e in ordered if is_first_response(e)), None)
    decided = next((e.created_at for e in ordered if e.kind in DECIDED), None)
    return RequestSla(
        filed_at=ordered[0].created_at,
        state=ordered[-1].to_state,
        due_at=moment(clock.due),
        breach_at=moment(clock.breach),
        first_response_due_at=moment(clock.first_response_due),
        first_response_at=first,
        decided_at=decided,
        active_hours=clock.before(line.at(now)) / PER_HOUR,
        clock=clock,
    )


def instant_before(
    calendar: BusinessCalendar, end: datetime, hours: float | timedelta
) -> datetime | None:
    """The latest instant with `hours` business hours between it and `end` (None: too far back).

    A running clock whose base (`ConsentRequest.clock_base_at`) is at or before this instant
    has its deadline `hours` after the base already past at `end`; the sweep uses it to select
    candidates in SQL.
    """
    remaining = hours // MICRO if isinstance(hours, timedelta) else round(hours * PER_HOUR)
    if remaining <= 0:
        return end
    line = line_for(calendar)
    try:
        return moment(line.latest(line.at(end) - remaining))
    except ValueError:  # a calendar without that much business time before `end`
        return None


def is_business_time(calendar: BusinessCalendar, now: datetime) -> bool:
    """True while the team is working (inside today's window)."""
    window = calendar.window(now.astimezone(calendar.zone).date())
    return window is not None and window[0] <= now < window[1]
