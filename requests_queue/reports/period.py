"""The period a report covers: whole team-local days, turned into UTC instants once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ..calendar import BusinessCalendar
from ..errors import ValidationError

PRESETS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years: the weekly series stays readable


@dataclass(frozen=True)
class Period:
    """Local days `first_day`..`last_day` (inclusive) of the team, as [start, end) in UTC."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime
    days: int | None = None  # the preset it came from ("last 30 days"), None for dates

    @property
    def title(self) -> str:
        """How the page names it."""
        span = f"{self.first_day:%d %b %Y} – {self.last_day:%d %b %Y}"
        return f"Last {self.days} days ({span})" if self.days else span

    @property
    def slug(self) -> str:
        """A file-name friendly form (for CSV downloads)."""
        return f"{self.first_day:%Y%m%d}-{self.last_day:%Y%m%d}"

    def weeks(self) -> list[date]:
        """The team-local Mondays of every week the period touches, oldest first."""
        monday = self.first_day - timedelta(days=self.first_day.weekday())
        return [monday + timedelta(weeks=n) for n in range((self.last_day - monday).days // 7 + 1)]


def _midnight(day: date, calendar: BusinessCalendar) -> datetime:
    return datetime.combine(day, time(0), tzinfo=calendar.zone).astimezone(UTC)


def today(calendar: BusinessCalendar, now: datetime) -> date:
    """The team's local date at `now`."""
    return now.astimezone(calendar.zone).date()


def last_days(calendar: BusinessCalendar, now: datetime, days: int = DEFAULT_DAYS) -> Period:
    """The last `days` local days, today included."""
    if days not in PRESETS:
        raise ValidationError("days", f"choose one of {', '.join(map(str, PRESETS))} days")
    last = today(calendar, now)
    return _period(calendar, last - timedelta(days=days - 1), last, days)


def between(calendar: BusinessCalendar, now: datetime, first: date, last: date) -> Period:
    """Local days `first` to `last`, both included; not after today, at most two years."""
    if last > today(calendar, now):
        raise ValidationError("end", "choose a day up to today; the future has no figures yet")
    if first > last:
        raise ValidationError("start", "the first day must not be after the last day")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationError("start", f"choose at most {MAX_DAYS} days")
    return _period(calendar, first, last, None)


def _period(calendar: BusinessCalendar, first: date, last: date, days: int | None) -> Period:
    start = _midnight(first, calendar)
    end = _midnight(last + timedelta(days=1), calendar)
    return Period(first, last, start, end, days)
