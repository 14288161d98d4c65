"""The support team's business calendar: working windows and holidays.

Pure domain code (stdlib + `holidays`). Every instant going in must be timezone-aware and every
instant coming out is an aware UTC datetime. Windows are built from the team's LOCAL date and
local wall-clock hours, so daylight-saving changes shift the UTC times, never the local ones.
Business time is half-open: a 09:00-17:00 window counts [09:00, 17:00). The calendar provides
the windows only: its business-time methods are the business line's arithmetic
(`requests_queue.sla.line`), the one implementation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from .sla.line import PER_HOUR, SEARCH_DAYS, line_for

Span = tuple[time, time]

ADDED_HOLIDAY_NAME = "Company holiday"
_HOUR = timedelta(hours=1)


class WeeklyHours(Mapping[int, Span | None]):
    """Immutable, hashable map weekday (0=Mon..6=Sun) -> (open, close) or None when closed."""

    __slots__ = ("_days", "_hash")

    def __init__(self, hours: Mapping[int, Span | None]) -> None:
        days: list[Span | None] = [None] * 7
        for weekday, span in hours.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0..6, got {weekday!r}")
            if span is not None:
                opens, closes = span
                if not opens < closes:
                    raise ValueError(f"weekday {weekday}: opening {opens} must be before {closes}")
                days[weekday] = (opens, closes)
        self._days: tuple[Span | None, ...] = tuple(days)
        self._hash = hash(self._days)

    def __getitem__(self, weekday: int) -> Span | None:
        if weekday not in range(7):
            raise KeyError(weekday)
        return self._days[weekday]

    def __iter__(self) -> Iterator[int]:
        return iter(range(7))

    def __len__(self) -> int:
        return 7

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"WeeklyHours({dict(self)!r})"


DEFAULT_HOURS = WeeklyHours({wd: (time(9), time(17)) for wd in range(5)})


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    """`value`, or ValueError when it is naive (business time needs a time zone)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value


@lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    return dict(holidays.country_holidays(country, subdiv=subdivision, years=year))


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours per weekday in one time zone, minus a country's public holidays, edited."""

    timezone: str = "America/Phoenix"
    hours: Mapping[int, Span | None] = DEFAULT_HOURS
    country: str = "US"
    subdivision: str | None = None
    added_holidays: frozenset[date] = field(default_factory=frozenset)
    removed_holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not isinstance(self.hours, WeeklyHours):
            object.__setattr__(self, "hours", WeeklyHours(self.hours))
        object.__setattr__(self, "added_holidays", frozenset(self.added_holidays))
        object.__setattr__(self, "removed_holidays", frozenset(self.removed_holidays))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        try:
            holidays.country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError as exc:
            raise ValueError(str(exc)) from exc

    @classmethod
    def default(cls, **overrides: Any) -> BusinessCalendar:
        """Mon-Fri 09:00-17:00 America/Phoenix with US holidays, any field overridable."""
        return cls(**overrides)

    @property
    def zone(self) -> ZoneInfo:
        """The team's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def hours_per_day(self) -> float:
        """Length in hours of one business day: the most common weekly window (ties: earliest)."""
        lengths = Counter(
            _wall_hours(span) for wd in range(7) if (span := self.hours[wd]) is not None
        )
        return lengths.most_common(1)[0][0] if lengths else 0.0

    def is_holiday(self, d: date) -> bool:
        """True if `d` is closed as a holiday (added days win over removed ones)."""
        return self.holiday_name(d) is not None

    def holiday_name(self, d: date) -> str | None:
        """The holiday's name, or None when `d` is not a holiday for this team."""
        if d in self.added_holidays:
            return ADDED_HOLIDAY_NAME
        if d in self.removed_holidays:
            return None
        return _public_holidays(self.country, self.subdivision, d.year).get(d)

    def public_holiday_name(self, d: date) -> str | None:
        """The country's (and subdivision's) holiday on `d`, ignoring the manager's edits."""
        return _public_holidays(self.country, self.subdivision, d.year).get(d)

    def window(self, d: date) -> tuple[datetime, datetime] | None:
        """The business window of local date `d` as aware UTC datetimes, or None if closed."""
        return _window(self, d)

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The UTC instant `hours` business hours after `start` (counting from the next opening)."""
        require_aware(start, "start")
        check_hours(hours)
        return line_for(self).after(start, hours)

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """`add_business_hours(start, days * hours_per_day)`.

        One business day is one standard window (`hours_per_day`, 8 h by default), so a request
        filed at 09:00 on a business day is one business day old at 17:00 the same day, and a
        partial first window carries its remainder into the following windows.
        """
        return self.add_business_hours(start, days * self.hours_per_day)

    def business_hours_between(self, start: datetime, end: datetime) -> float:
        """Business hours in [start, end); 0 if end <= start."""
        require_aware(start, "start")
        require_aware(end, "end")
        return line_for(self).between(start, end) / PER_HOUR

    def business_days_between(self, start: datetime, end: datetime) -> float:
        """Business hours in [start, end) divided by `hours_per_day`."""
        per_day = self.hours_per_day
        return self.business_hours_between(start, end) / per_day if per_day else 0.0

    def next_business_days(self, start_date: date, n: int) -> list[tuple[date, datetime, datetime]]:
        """Up to `n` business days from `start_date` on, with local (team zone) open/close times."""
        result: list[tuple[date, datetime, datetime]] = []
        for d in _days_from(start_date):
            if len(result) >= n:
                break
            if (win := self.window(d)) is not None:
                result.append((d, win[0].astimezone(self.zone), win[1].astimezone(self.zone)))
        return result


def check_hours(hours: float) -> float:
    """`hours`, or ValueError unless it is a finite amount of business time >= 0."""
    if not math.isfinite(hours) or hours < 0:
        raise ValueError(f"hours must be a finite number >= 0, got {hours!r}")
    return hours


def _wall_hours(span: Span) -> float:
    opens, closes = (datetime.combine(date.min, t) for t in span)
    return (closes - opens) / _HOUR


def _days_from(first: date) -> Iterator[date]:
    for offset in range(SEARCH_DAYS):
        yield first + timedelta(days=offset)


@lru_cache(maxsize=8192)
def _window(calendar: BusinessCalendar, d: date) -> tuple[datetime, datetime] | None:
    span = calendar.hours[d.weekday()]
    if span is None or calendar.is_holiday(d):
        return None
    zone = calendar.zone
    opens, closes = (datetime.combine(d, t, tzinfo=zone).astimezone(UTC) for t in span)
    return (opens, closes) if opens < closes else None
