"""Business time as a number line: business microseconds since a fixed local midnight.

`ordinal(b) - ordinal(a)` is exactly the business time between a and b, so durations become
subtractions (the database can do them too), and `ordinal.instant(n)` turns a position back
into the instant the clock reaches it. The days are summed once into a prefix table per
calendar; after that an instant costs one window lookup and a deadline one bisection.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache

from ..calendar import SEARCH_DAYS, BusinessCalendar, Interval, deadline_from_running_intervals

EPOCH = date(2020, 1, 6)  # a Monday; instants before it get negative ordinals
MICRO = timedelta(microseconds=1)
PER_SECOND = 1_000_000


class BusinessOrdinal:
    """Maps aware instants to business microseconds since local midnight of EPOCH."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self._zone = calendar.zone
        self._forward = [0]  # [i]: business time in local days [EPOCH, EPOCH + i)
        self._backward = [0]  # [i]: business time in local days [EPOCH - i, EPOCH)
        self._lock = threading.Lock()  # the web server shares one instance between threads
        self._days: dict[date, tuple[int, tuple[datetime, datetime] | None]] = {}

    def __call__(self, instant: datetime) -> int:
        """Business microseconds from the epoch to `instant` (negative before it)."""
        day = instant.astimezone(self._zone).date()
        known = self._days.get(day)
        if known is None:  # a plain dict: the calendar's own cache hashes the calendar each time
            known = self._days[day] = (self.day_start(day), self.calendar.window(day))
        total, window = known
        if window is not None and instant > window[0]:
            total += (min(instant, window[1]) - window[0]) // MICRO
        return total

    def seconds(self, instant: datetime) -> int:
        """The ordinal in whole seconds (what the database stores and compares)."""
        return self(instant) // PER_SECOND

    def day_start(self, day: date) -> int:
        """Business microseconds from the epoch to local midnight starting `day`."""
        offset = (day - EPOCH).days
        if offset >= 0:
            if offset >= len(self._forward):
                self._extend(self._forward, offset, 1)
            return self._forward[offset]
        if -offset >= len(self._backward):
            self._extend(self._backward, -offset, -1)
        return -self._backward[-offset]

    def instant(self, position: int) -> datetime:
        """The earliest instant whose ordinal is `position` (>= 0): a deadline's moment."""
        table = self._forward
        while table[-1] < position:
            if len(table) > SEARCH_DAYS * 3:
                raise ValueError("the calendar has no business time to reach that deadline")
            self._extend(table, len(table) + 31, 1)
        # The first day whose end reaches the position holds it (closed days add nothing).
        day = EPOCH + timedelta(days=bisect.bisect_left(table, position) - 1)
        opens = self.calendar.window(day)[0]
        return opens + (position - table[(day - EPOCH).days]) * MICRO

    def deadline(self, intervals: Sequence[Interval], hours: float) -> datetime | None:
        """When the clock running in `intervals` reaches `hours` (None: it stopped before)."""
        remaining = round(hours * 3600 * PER_SECOND)
        if not intervals or remaining <= 0 or intervals[0][0].astimezone(self._zone).date() < EPOCH:
            return deadline_from_running_intervals(self.calendar, intervals, hours)
        for start, end in intervals:
            begin = self(start)
            ran = None if end is None else self(end) - begin
            if ran is None or ran >= remaining:
                return self.instant(begin + remaining)
            remaining -= ran
        return None

    def _extend(self, table: list[int], upto: int, direction: int) -> None:
        with self._lock:
            while len(table) <= upto:
                n = len(table)
                # Forward, entry n adds day EPOCH + n - 1; backward, it adds day EPOCH - n.
                day = EPOCH + timedelta(days=n - 1 if direction > 0 else -n)
                window = self.calendar.window(day)
                table.append(
                    table[-1] + (0 if window is None else (window[1] - window[0]) // MICRO)
                )


@lru_cache(maxsize=8)
def ordinal_for(calendar: BusinessCalendar) -> BusinessOrdinal:
    """The (cached) ordinal of a calendar; calendars equal by value share one."""
    return BusinessOrdinal(calendar)
