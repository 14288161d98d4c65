"""Business time as a line of integers, to compute thousands of clocks without walking days.

An instant is a count of microseconds since 1970 UTC; its position is the business time (in
microseconds) from the start of the line, so the business time between two instants is the
difference of their positions and a deadline is the instant at a position. The windows come
from `BusinessCalendar.window`, so the line agrees with the calendar's own arithmetic
(`add_business_hours`, `business_hours_between`), daylight-saving changes and holidays
included; tests compare the two.
"""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, timedelta

from ..calendar import SEARCH_DAYS, BusinessCalendar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICRO = timedelta(microseconds=1)
PER_SECOND = 1_000_000
PER_HOUR = 3600 * PER_SECOND


def micros(instant: datetime) -> int:
    """Microseconds since 1970 UTC of an aware instant."""
    return (instant - EPOCH) // MICRO


def instant_at(us: int) -> datetime:
    """The aware UTC instant `us` microseconds after 1970."""
    return EPOCH + timedelta(microseconds=us)


class BusinessLine:
    """The business windows of a calendar from some day on, with their running total."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self._zone = calendar.zone
        self._first: date | None = None  # first local day on the line
        self._next: date | None = None  # first local day not on the line yet
        self._next_us = 0  # UTC microseconds of the local midnight starting `_next`
        self.opens: list[int] = []
        self.closes: list[int] = []
        self.before: list[int] = []  # business time of the windows before each window
        self.ends: list[int] = []  # position at each window's close

    def cover(self, us: int) -> None:
        """Make sure positions from instant `us` on are known: the line starts at least one
        business window before it, so every position names its earliest instant."""
        day = instant_at(us).astimezone(self._zone).date() - timedelta(days=1)
        if self._first is not None and day >= self._first:
            return
        for _ in range(SEARCH_DAYS):  # back to a day with a window
            if self.calendar.window(day) is not None:
                break
            day -= timedelta(days=1)
        upto = self._next or day + timedelta(days=1)
        self._first, self._next = day, day
        self.opens, self.closes, self.before, self.ends = [], [], [], []
        self._grow_until(upto)

    def position(self, us: int) -> int:
        """Business microseconds from the line's start to instant `us` (`cover` it first)."""
        if self._next is None:
            self.cover(us)
        while self._next_us <= us:
            self._grow_until(self._next + timedelta(days=31))
        i = bisect.bisect_right(self.opens, us) - 1
        if i < 0:
            return 0
        return self.before[i] + min(us, self.closes[i]) - self.opens[i]

    def instant(self, position: int) -> int:
        """The earliest instant at `position` (a window's close when the position ends it)."""
        if self._next is None:
            raise ValueError("cover an instant before asking for positions")
        while not self.ends or self.ends[-1] < position:
            if self._next - self._first > timedelta(days=3 * SEARCH_DAYS):
                raise ValueError("the calendar has no business time to reach that deadline")
            self._grow_until(self._next + timedelta(days=31))
        i = bisect.bisect_left(self.ends, position)
        return self.opens[i] + position - self.before[i]

    def _grow_until(self, stop: date) -> None:
        day = self._next
        while day < stop:
            window = self.calendar.window(day)
            if window is not None:
                opens, closes = micros(window[0]), micros(window[1])
                total = self.ends[-1] if self.ends else 0
                self.opens.append(opens)
                self.closes.append(closes)
                self.before.append(total)
                self.ends.append(total + closes - opens)
            day += timedelta(days=1)
        self._next = day
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=self._zone)
        self._next_us = micros(midnight.astimezone(UTC))
