"""The SLA engine: one function turns a request's timeline into its clock (DOMAIN.md: SLA).

The clock runs while a request is submitted or in review (a second review included), stands
still while support waits for the customer, and ends with the decision, a withdrawal or a
close. `clock_of` reads a timeline as (state entered, when) and returns its `Clock`: the time
on the clock, the instants it reaches the due time (3 business days) and the breach (5), and
from those whether it is at risk or breached. The arithmetic is the calendar's business line
(`line.BusinessLine`); the calendar itself only provides working windows.

Where a clock stands (on track, at risk, breached, paused) is said once, by `level` from
`THRESHOLDS`; SQL asks the same of stored rows through `at_level`, given how a row shows
that its clock reached N business days (the report facts' `Scale.reached`; the stored clock
as it stands now, `deadlines.reached_now`, for the digest, the metrics and the escalation
ranking). The sweep's marks (`sla_events`) are its notification ledger, not a level: each
threshold announced once.

Everything else reads this clock: the stored clock on the request's row
(`deadlines.stored_clock`, which the queue and the sweep read back through `running_clock`
and `stopped_clock`), the report facts, the customer's "expected by" and the request's SLA
(`clock.request_sla`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa

from ..calendar import BusinessCalendar, check_hours, require_aware
from ..models.requests import RequestState
from .line import PER_HOUR, BusinessLine, instant_at, line_for, micros

DUE_DAYS = 3  # "expected by": at risk once past it
BREACH_DAYS = 5  # "at the latest": breached once past it
FIRST_RESPONSE_DAYS = 1  # first claim, assignment or question
# The clock runs in these; a first approval waiting for a second review is still support's time.
RUNNING_STATES = (
    RequestState.submitted,
    RequestState.in_review,
    RequestState.pending_second_review,
)
RUNNING = frozenset(RUNNING_STATES)
# Where a clock stands, as the queue, the sweep and the reports name it.
ON_TRACK, AT_RISK, BREACHED, PAUSED = "on_track", "at_risk", "breached", "paused"
# THE levels a clock reaches, most severe first: (level, business days on the clock, said of
# open requests only). A breach stays after the clock stops; only an open request is at risk.
THRESHOLDS = ((BREACHED, BREACH_DAYS, False), (AT_RISK, DUE_DAYS, True))
DAYS = {level: days for level, days, _ in THRESHOLDS}  # the business days of each threshold

When = TypeVar("When", datetime, int)
Run = tuple[int, int | None]  # positions of a run's start and stop (None: still running)


def running_intervals(moves: Iterable[tuple[RequestState, When]]) -> list[tuple[When, When | None]]:
    """When the clock ran, from (state entered, when) in timeline order: [start, end) stretches
    in a running state; None end = still running."""
    out: list[tuple[When, When | None]] = []
    start = None
    for state, when in moves:
        if state in RUNNING and start is None:
            start = when
        elif state not in RUNNING and start is not None:
            out.append((start, when))
            start = None
    if start is not None:
        out.append((start, None))
    return out


def business_days(days: float, day_hours: float) -> int:
    """`days` business days of `day_hours` hours, in business microseconds."""
    return round(days * day_hours * PER_HOUR)


def level(reached: Callable[[int], bool], *, is_open: bool = True, paused: bool = False) -> str:
    """THE level of a clock: the most severe threshold it has reached (`reached(days)`: it
    has shown `days` business days), else PAUSED while it stands still, else ON_TRACK."""
    for name, days, open_only in THRESHOLDS:
        if (is_open or not open_only) and reached(days):
            return name
    return PAUSED if paused else ON_TRACK


Reached = Callable[[int], sa.ColumnElement[bool]]


def at_level(name: str, reached: Reached) -> sa.ColumnElement[bool]:
    """`level` in SQL, for open requests: the row's clock is at level `name` (AT_RISK or
    BREACHED) exactly, having reached that threshold and no more severe one (`reached(days)`
    is a condition on the row, true or false but never NULL since it is negated; plain
    comparisons, so an index range can serve them)."""
    more_severe: list[sa.ColumnElement[bool]] = []
    for other, days, _ in THRESHOLDS:
        if other == name:
            return sa.and_(reached(days), *more_severe)
        more_severe.append(sa.not_(reached(days)))
    raise ValueError(f"no threshold is called {name!r}")


@dataclass(frozen=True, slots=True)
class Clock:
    """A request's SLA clock: positions and business time in microseconds (`line`), deadlines
    as instants in microseconds since 1970 (None: the clock stopped before reaching them)."""

    ran: int  # business time of the finished runs
    started: int | None  # position where the current run began; None while stopped
    due: int | None
    breach: int | None
    day: int  # one business day
    first_response_due: int | None = None
    runs: tuple[Run, ...] = ()  # every run (empty for a clock read back from its stored form)

    @property
    def is_running(self) -> bool:
        """The clock is counting now."""
        return self.started is not None

    @property
    def base(self) -> int | None:
        """Where a running clock would have started had it never stopped (its position)."""
        return None if self.started is None else self.started - self.ran

    def on_clock(self, position: int) -> int:
        """Business time on the clock at `position` (at or after its latest start or stop)."""
        return self.ran + (max(0, position - self.started) if self.started is not None else 0)

    def before(self, position: int) -> int:
        """Business time the clock ran before `position`, anywhere on its timeline."""
        return sum(min(position, position if stop is None else stop) - start
                   for start, stop in self.runs if start < position)  # fmt: skip

    def left(self, position: int, days: int) -> int:
        """Business time from `position` until the clock shows `days` business days (negative:
        that long past it)."""
        return days * self.day - self.on_clock(position)

    def reached(self, days: int, now: int) -> bool:
        """The clock has shown `days` (DUE_DAYS or BREACH_DAYS) business days by instant `now`."""
        if days == DUE_DAYS:
            deadline = self.due
        elif days == BREACH_DAYS:
            deadline = self.breach
        else:
            raise ValueError(f"a clock keeps no deadline at {days} business days")
        return deadline is not None and deadline <= now

    def is_at_risk(self, now: int) -> bool:
        """Past the due time at instant `now` (a request decided since is not at risk: ask
        `level`, or check that it is open)."""
        return self.reached(DAYS[AT_RISK], now)

    def is_breached(self, now: int) -> bool:
        """Past the breach deadline at instant `now`; a breach stays after the clock stops."""
        return self.reached(DAYS[BREACHED], now)

    def level(self, now: int, *, is_open: bool = True, paused: bool = False) -> str:
        """BREACHED, AT_RISK, PAUSED or ON_TRACK at instant `now` (`level`; a closed request
        is only ever breached or on track)."""
        return level(lambda days: self.reached(days, now), is_open=is_open, paused=paused)


def clock_of(
    line: BusinessLine,
    moves: Sequence[tuple[RequestState, int]],
    day_hours: float,
    *,
    first_response: bool = False,
) -> Clock:
    """THE clock of a timeline given as (state entered, when in microseconds since 1970), in
    order; `day_hours` is the calendar's business day. `first_response` also finds when the
    clock reaches one business day (what the desk shows; the stores do not need it)."""
    position = line.position
    runs = tuple(
        (position(start), None if stop is None else position(stop))
        for start, stop in running_intervals(moves)
    )
    ran = sum(stop - start for start, stop in runs if stop is not None)
    started = runs[-1][0] if runs and runs[-1][1] is None else None
    first = business_days(FIRST_RESPONSE_DAYS, day_hours) if first_response else None
    return Clock(
        ran,
        started,
        line.reach(runs, business_days(DUE_DAYS, day_hours)),
        line.reach(runs, business_days(BREACH_DAYS, day_hours)),
        business_days(1, day_hours),
        None if first is None else line.reach(runs, first),
        runs,
    )


def running_clock(
    line: BusinessLine,
    base: datetime,
    day_hours: float,
    reached: tuple[datetime | None, datetime | None] | None = None,
) -> Clock:
    """The clock of a running request read back from its stored base (`clock_base_at`, or
    the filing time when it never waited): as if it had run since the base.

    The base gives the time on the clock and the level exactly, and the due and breach
    instants when the clock reaches them in its current run. A deadline reached before a
    wait lies earlier than the base says (the wait's business hours did not count):
    `reached`, its stored (`clock_due_at`, `clock_breach_at`), gives it."""
    clock = clock_of(line, [(RequestState.in_review, micros(base))], day_hours)
    if reached is None:
        return clock
    due, breach = (micros(when) if when is not None else None for when in reached)
    return replace(
        clock,
        due=clock.due if due is None else min(due, clock.due),
        breach=clock.breach if breach is None else min(breach, clock.breach),
    )


def stopped_clock(
    ran_s: int, due_at: datetime | None, breach_at: datetime | None, day_hours: float
) -> Clock:
    """The clock of a stopped request read back from its stored clock (`clock_ran_s`, …)."""
    return Clock(
        ran=ran_s * 1_000_000,
        started=None,
        due=None if due_at is None else micros(due_at),
        breach=None if breach_at is None else micros(breach_at),
        day=business_days(1, day_hours),
    )


def moment(us: int | None) -> datetime | None:
    """An instant of the clock as an aware UTC datetime."""
    return None if us is None else instant_at(us)


# The same clock for arbitrary running intervals, in hours (the calendar's units).


def _merged(intervals: Iterable[tuple[datetime, datetime | None]]) -> list:
    """Sort and merge overlapping running intervals; None end means still running."""
    out: list[tuple[datetime, datetime | None]] = []
    checked = [
        (require_aware(s, "interval start"), e if e is None else require_aware(e, "interval end"))
        for s, e in intervals
    ]
    for s, e in sorted(checked, key=lambda iv: iv[0]):
        if out and (out[-1][1] is None or s <= out[-1][1]):
            prev_start, prev_end = out[-1]
            out[-1] = (prev_start, None if prev_end is None or e is None else max(prev_end, e))
        else:
            out.append((s, e))
    return out


def active_business_hours(
    calendar: BusinessCalendar, intervals: Iterable[tuple[datetime, datetime | None]], now: datetime
) -> float:
    """Business hours the clock ran during `intervals` (open ends counted up to `now`)."""
    require_aware(now, "now")
    line = line_for(calendar)
    at = line.at(now)
    runs = [(line.at(s), None if e is None else line.at(e)) for s, e in _merged(intervals)]
    return Clock(0, None, None, None, 0, runs=tuple(runs)).before(at) / PER_HOUR


def deadline_from_running_intervals(
    calendar: BusinessCalendar, intervals: Iterable[tuple[datetime, datetime | None]], hours: float
) -> datetime | None:
    """When running business time reaches `hours`; None if the clock is paused before that."""
    check_hours(hours)
    return line_for(calendar).deadline(_merged(intervals), hours)
