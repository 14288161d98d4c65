"""A request's SLA clock, derived from its timeline and the team calendar (nothing stored).

The clock runs while the request is submitted or in review, stops while support waits for
the customer (awaiting_customer) and ends with the decision, a withdrawal or a close. So the
same events and the same calendar always give the same deadlines, and a calendar edit moves
every open request's deadlines the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..calendar import (
    SEARCH_DAYS,
    BusinessCalendar,
    Interval,
    active_business_hours,
    deadline_from_running_intervals,
)
from ..models import RequestEvent, RequestEventKind, RequestState

DUE_DAYS = 3  # "expected by": at risk once past it
BREACH_DAYS = 5  # "at the latest": breached once past it
FIRST_RESPONSE_DAYS = 1  # first claim, assignment or question
RUNNING_STATES = (RequestState.submitted, RequestState.in_review)  # the clock runs in these
RUNNING = frozenset(RUNNING_STATES)
DECIDED = frozenset({RequestEventKind.approved, RequestEventKind.rejected})
FIRST_RESPONSES = frozenset(
    {RequestEventKind.claimed, RequestEventKind.assigned, RequestEventKind.question}
)


def running_intervals(moves: Iterable[tuple[RequestState, datetime]]) -> list[Interval]:
    """When the clock ran, from (state entered, when) in timeline order: [start, end) stretches
    in a running state; None end = still running."""
    out: list[Interval] = []
    start: datetime | None = None
    for state, when in moves:
        if state in RUNNING and start is None:
            start = when
        elif state not in RUNNING and start is not None:
            out.append((start, when))
            start = None
    if start is not None:
        out.append((start, None))
    return out


def deadlines(
    calendar: BusinessCalendar,
    moves: Iterable[tuple[RequestState, datetime]],
    days: Sequence[float],
    day_hours: float | None = None,
) -> list[datetime | None]:
    """The instants the clock reaches each of `days` business days (None: not while running)."""
    intervals = running_intervals(moves)
    per_day = calendar.hours_per_day if day_hours is None else day_hours
    return [deadline_from_running_intervals(calendar, intervals, d * per_day) for d in days]


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
        return self.is_open and self.due_at is not None and self.due_at <= now

    def is_breached(self, now: datetime) -> bool:
        """The clock passed 5 business days (a closed request keeps the breach it had)."""
        # A stopped clock has a breach time only if it got there before it stopped.
        return self.breach_at is not None and self.breach_at <= now


def request_sla(
    calendar: BusinessCalendar, events: Sequence[RequestEvent], now: datetime
) -> RequestSla:
    """The SLA of one request from its complete timeline (oldest first or not)."""
    ordered = sorted(events, key=lambda e: e.id)
    if not ordered or ordered[0].kind is not RequestEventKind.filed:
        raise ValueError("a request's timeline starts with its filing")
    intervals = running_intervals((e.to_state, e.created_at) for e in ordered)
    day = calendar.hours_per_day
    first = next((e.created_at for e in ordered if e.kind in FIRST_RESPONSES), None)
    decided = next((e.created_at for e in ordered if e.kind in DECIDED), None)
    return RequestSla(
        filed_at=ordered[0].created_at,
        state=ordered[-1].to_state,
        due_at=deadline_from_running_intervals(calendar, intervals, DUE_DAYS * day),
        breach_at=deadline_from_running_intervals(calendar, intervals, BREACH_DAYS * day),
        first_response_due_at=deadline_from_running_intervals(
            calendar, intervals, FIRST_RESPONSE_DAYS * day
        ),
        first_response_at=first,
        decided_at=decided,
        active_hours=active_business_hours(calendar, intervals, now),
    )


def instant_before(
    calendar: BusinessCalendar, end: datetime, hours: float | timedelta
) -> datetime | None:
    """The latest instant with `hours` business hours between it and `end` (None: too far back).

    A running clock whose base (`ConsentRequest.clock_base_at`) is at or before this instant
    has its deadline `hours` after the base already past at `end`; the sweep uses it to select
    candidates in SQL.
    """
    remaining = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
    if remaining <= timedelta(0):
        return end
    end = end.astimezone(UTC)
    day = end.astimezone(calendar.zone).date()
    for _ in range(SEARCH_DAYS):
        window = calendar.window(day)
        day -= timedelta(days=1)
        if window is None or window[0] >= end:
            continue
        available = min(window[1], end) - window[0]
        if remaining <= available:
            return min(window[1], end) - remaining
        remaining -= available
    return None


def is_business_time(calendar: BusinessCalendar, now: datetime) -> bool:
    """True while the team is working (inside today's window)."""
    window = calendar.window(now.astimezone(calendar.zone).date())
    return window is not None and window[0] <= now < window[1]
