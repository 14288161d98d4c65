"""Business time as a line of integers: the one place that turns a calendar into arithmetic.

An instant is a count of microseconds since 1970 UTC; its *position* is the business time
(in microseconds) from local midnight of `EPOCH_DAY` to it, negative before. The business
time between two instants is the difference of their positions, a deadline is the instant
at a position, and because the origin is fixed, positions (in seconds) can be stored and
compared by the database (the report facts do). The windows come from
`BusinessCalendar.window`, the only thing the calendar provides; its arithmetic
(`add_business_hours`, `business_hours_between`) is this line's, and the tests compare it
with numpy's business days and a minute-by-minute walk over the windows.

One line per calendar is shared by the whole process (`line_for`): it is built once, then
an instant costs one bisection. The web server shares it between threads, so the table is
never changed in place: growing it builds a new one and swaps it in under a lock.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the calendar imports this module for its arithmetic
    from ..calendar import BusinessCalendar

SEARCH_DAYS = 3660  # ~10 years: how far any search for business time may look before giving up
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DAY = date(2020, 1, 6)  # a Monday: positions count from its local midnight
MICRO = timedelta(microseconds=1)
PER_SECOND = 1_000_000
PER_HOUR = 3600 * PER_SECOND
_GROW = timedelta(days=62)  # how far a table grows past what was asked


def micros(instant: datetime) -> int:
    """Microseconds since 1970 UTC of an aware instant."""
    return (instant - EPOCH) // MICRO


def instant_at(us: int) -> datetime:
    """The aware UTC instant `us` microseconds after 1970."""
    return EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True)
class _Table:
    """The windows of local days [first, stop), as UTC microseconds, with their positions."""

    first: date
    stop: date
    first_us: int  # local midnight starting `first`
    stop_us: int  # local midnight starting `stop`
    opens: list[int]
    closes: list[int]
    before: list[int]  # position at each window's open
    ends: list[int]  # position at each window's close


class BusinessLine:
    """Positions of instants on a calendar's business line, and instants at positions."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self._zone = calendar.zone
        self._lock = threading.Lock()
        self._table = self._build(EPOCH_DAY - timedelta(days=7), EPOCH_DAY + _GROW)

    def position(self, us: int) -> int:
        """Business microseconds from the origin to instant `us` (UTC microseconds)."""
        t = self._table
        if not t.first_us <= us < t.stop_us:
            t = self._covering(us)
        i = bisect.bisect_right(t.opens, us) - 1
        if i < 0:  # before the table's first window: nothing ran since the table's start
            return t.before[0]
        return t.before[i] + min(us, t.closes[i]) - t.opens[i]

    def instant(self, position: int) -> int:
        """The earliest instant (UTC microseconds) at `position`; a window's close when the
        position ends that window."""
        t = self._table
        if not t.before[0] < position <= t.ends[-1]:
            t = self._reaching(position)
        i = bisect.bisect_left(t.ends, position)
        return t.opens[i] + position - t.before[i]

    def latest(self, position: int) -> int:
        """The latest instant (UTC microseconds) at `position`: the next window's opening when
        the position ends a window (what a clock started then counts from)."""
        t = self._table
        if not t.before[0] < position < t.ends[-1]:
            t = self._reaching(position + 1)
        i = bisect.bisect_right(t.ends, position)
        return t.opens[i] + position - t.before[i]

    def reach(self, runs: Sequence[tuple[int, int | None]], needed: int) -> int | None:
        """THE deadline: the instant (UTC microseconds) a clock running over `runs` (positions
        of each run's start and stop, None while running) has run `needed` business
        microseconds; None when it stopped before. Zero is the first opening it ran in."""
        if not runs:
            return None
        if needed <= 0:
            return self.latest(runs[0][0])
        for start, stop in runs:
            if stop is None or stop - start >= needed:
                return self.instant(start + needed)
            needed -= stop - start
        return None

    def after(self, start: datetime, hours: float) -> datetime:
        """The aware UTC instant `hours` business hours after `start`."""
        reached = self.reach([(self.at(start), None)], round(hours * PER_HOUR))
        assert reached is not None  # a running clock always gets there
        return instant_at(reached)

    def between(self, start: datetime, end: datetime) -> int:
        """Business microseconds in [start, end); 0 if end <= start."""
        return self.at(end) - self.at(start) if end > start else 0

    def at(self, instant: datetime) -> int:
        """The position of an aware instant."""
        return self.position(micros(instant))

    def seconds(self, instant: datetime) -> int:
        """The position in whole seconds (what the database stores and compares)."""
        return self.position(micros(instant)) // PER_SECOND

    def moment(self, position: int) -> datetime:
        """The earliest aware (UTC) instant at `position`."""
        return instant_at(self.instant(position))

    def deadline(
        self, intervals: Sequence[tuple[datetime, datetime | None]], hours: float
    ) -> datetime | None:
        """When the clock running in `intervals` reaches `hours` (None: it stopped before)."""
        runs = [(self.at(start), None if end is None else self.at(end)) for start, end in intervals]
        reached = self.reach(runs, round(hours * PER_HOUR))
        return None if reached is None else instant_at(reached)

    # The table grows in whole local days; a table always starts and ends with a window.

    def _covering(self, us: int) -> _Table:
        day = instant_at(us).astimezone(self._zone).date()
        with self._lock:
            t = self._table
            first, stop = t.first, t.stop
            if us < t.first_us:
                first = day - timedelta(days=1)
            if us >= t.stop_us:
                stop = day + _GROW
            if (first, stop) != (t.first, t.stop):
                self._table = t = self._build(first, stop)
        return t

    def _reaching(self, position: int) -> _Table:
        with self._lock:
            t = self._table
            first, stop = t.first, t.stop
            while position <= t.before[0]:
                if t.stop - t.first > timedelta(days=3 * SEARCH_DAYS):
                    raise ValueError("the calendar has no business time before that position")
                first -= _GROW
                t = self._build(first, stop)
            while t.ends[-1] < position:
                if t.stop - t.first > timedelta(days=3 * SEARCH_DAYS):
                    raise ValueError(
                        f"not enough business time within {SEARCH_DAYS} days to reach that deadline"
                    )
                stop += _GROW
                t = self._build(first, stop)
            self._table = t
        return t

    def _build(self, first: date, stop: date) -> _Table:
        """The table of [first, stop), widened to a window at each end."""
        window = self.calendar.window
        for _ in range(SEARCH_DAYS):
            if window(first) is not None:
                break
            first -= timedelta(days=1)
        for _ in range(SEARCH_DAYS):
            if window(stop - timedelta(days=1)) is not None:
                break
            stop += timedelta(days=1)
        opens, closes, before, ends = [], [], [], []
        total, origin, day = 0, None, first
        while day < stop:
            if day == EPOCH_DAY:
                origin = total
            w = window(day)
            if w is not None:
                a, b = micros(w[0]), micros(w[1])
                opens.append(a)
                closes.append(b)
                before.append(total)
                total += b - a
                ends.append(total)
            day += timedelta(days=1)
        if not opens:
            raise ValueError(f"not enough business time within {SEARCH_DAYS} days: no window")
        assert origin is not None  # tables only ever widen from one around the origin
        before = [p - origin for p in before]
        ends = [p - origin for p in ends]
        return _Table(first, stop, self._midnight(first), self._midnight(stop),
                      opens, closes, before, ends)  # fmt: skip

    def _midnight(self, day: date) -> int:
        return micros(datetime.combine(day, time(), tzinfo=self._zone).astimezone(UTC))


@lru_cache(maxsize=16)
def line_for(calendar: BusinessCalendar) -> BusinessLine:
    """The process's line of a calendar (calendars equal by value share one)."""
    return BusinessLine(calendar)
