"""The team calendar in the database: load it as a `BusinessCalendar`, edit it, preview it.

SLA deadlines are derived from request events and `load_calendar`, so an edit here recomputes
every open request the same way on the next read. The clocks stored for the queue's order and
countdowns follow at the next SLA sweep (within 5 minutes), which recomputes those written
with another calendar; an edit does not wait for that many rows itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
import sqlalchemy as sa
from holidays.registry import COUNTRIES
from sqlalchemy.orm import Session

from .calendar import BusinessCalendar, Span
from .errors import NotFound, ValidationError
from .models.calendar_settings import (
    CalendarHoliday,
    CalendarHours,
    CalendarSettings,
    HolidayChange,
)
from .statuses import Actor
from .time_zones import check_zone_name, timezone_names  # noqa: F401  (the calendar page's list)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PREVIEW_DAYS = 15
NOTE_MAX = 200


def hours_field(weekday: int) -> str:
    """The field name errors about one weekday's hours carry ("hours-0" is Monday)."""
    return f"hours-{weekday}"


@lru_cache(maxsize=1)
def supported_countries() -> tuple[tuple[str, str], ...]:
    """(ISO code, English name) of every country with public holidays, sorted by name."""
    pairs = {(code[1], key.replace("_", " ").title()) for key, code in COUNTRIES.items()}
    return tuple(sorted(pairs, key=lambda pair: pair[1]))


@lru_cache(maxsize=64)
def subdivisions(country: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of the country's subdivisions; the name is the code when none is known."""
    codes = holidays.list_supported_countries().get(country, [])
    aliases = getattr(holidays.country_holidays(country).__class__, "subdivisions_aliases", {})
    names = {code: name for name, code in aliases.items()}
    return tuple((code, names.get(code, code)) for code in codes)


@dataclass(frozen=True)
class CalendarInput:
    """What a manager edits: zone, country, optional subdivision and weekly hours."""

    timezone: str
    country: str
    subdivision: str | None
    hours: Mapping[int, Span | None]


def build_calendar(data: CalendarInput, base: BusinessCalendar | None = None) -> BusinessCalendar:
    """Check `data` and return the calendar it describes, keeping `base`'s holiday edits."""
    if not data.timezone.strip():
        raise ValidationError("timezone", "choose the team's time zone")
    zone = check_zone_name(data.timezone, "timezone", example="America/Phoenix")
    country = data.country.strip().upper()
    if country not in dict(supported_countries()):
        raise ValidationError("country", f"no public holidays are known for country {country!r}")
    subdivision = _check_subdivision(country, (data.subdivision or "").strip())
    hours: dict[int, Span | None] = {}
    for weekday in range(7):
        span = data.hours.get(weekday)
        if span is not None and not span[0] < span[1]:
            raise ValidationError(
                hours_field(weekday),
                f"{WEEKDAYS[weekday]}: opening time must be before closing time",
            )
        hours[weekday] = span
    if all(span is None for span in hours.values()):
        raise ValidationError("hours", "open at least one day a week")
    base = base or BusinessCalendar()
    return BusinessCalendar(
        timezone=zone,
        hours=hours,
        country=country,
        subdivision=subdivision,
        added_holidays=base.added_holidays,
        removed_holidays=base.removed_holidays,
    )


def _check_subdivision(country: str, given: str) -> str | None:
    if not given:
        return None
    known = subdivisions(country)
    for code, name in known:
        if given.casefold() in (code.casefold(), name.casefold()):
            return code
    if not known:
        raise ValidationError("subdivision", f"{country} has no subdivisions; leave this empty")
    sample = ", ".join(code for code, _ in known[:12]) + (", …" if len(known) > 12 else "")
    raise ValidationError("subdivision", f"{given} is not a subdivision of {country} ({sample})")


def load_calendar(session: Session) -> BusinessCalendar:
    """The team's calendar as stored; the defaults for anything a manager never saved."""
    settings = session.get(CalendarSettings, 1)
    changes = session.execute(sa.select(CalendarHoliday.day, CalendarHoliday.change)).all()
    added = frozenset(day for day, change in changes if change is HolidayChange.added)
    removed = frozenset(day for day, change in changes if change is HolidayChange.removed)
    if settings is None:
        return _calendar(None, (), None, None, added, removed)
    rows = session.execute(
        sa.select(CalendarHours.weekday, CalendarHours.opens, CalendarHours.closes)
    ).all()
    hours = tuple(sorted((weekday, opens, closes) for weekday, opens, closes in rows))
    return _calendar(
        settings.timezone, hours, settings.country, settings.subdivision, added, removed
    )


@lru_cache(maxsize=16)
def _calendar(
    timezone: str | None,
    hours: tuple,
    country: str | None,
    subdivision: str | None,
    added: frozenset[date],
    removed: frozenset[date],
) -> BusinessCalendar:
    """One calendar object per stored version, shared by every request that reads it: the
    calendar is immutable, and building it (zone, holiday tables) costs more than the reads."""
    if timezone is None:
        return BusinessCalendar(added_holidays=added, removed_holidays=removed)
    return BusinessCalendar(
        timezone=timezone,
        hours={weekday: (opens, closes) for weekday, opens, closes in hours},
        country=country,
        subdivision=subdivision,
        added_holidays=added,
        removed_holidays=removed,
    )


def update_calendar(
    session: Session, data: CalendarInput, actor: Actor, now: datetime
) -> BusinessCalendar:
    """Check and store zone, country, subdivision and all seven days' hours."""
    calendar = build_calendar(data, load_calendar(session))
    settings = session.get(CalendarSettings, 1)
    if settings is None:
        settings = CalendarSettings(id=1)
        session.add(settings)
    settings.timezone = calendar.timezone
    settings.country = calendar.country
    settings.subdivision = calendar.subdivision
    settings.updated_at = now
    settings.updated_by_id = actor.user_id
    session.execute(sa.delete(CalendarHours))
    session.add_all(
        CalendarHours(weekday=wd, opens=span[0], closes=span[1])
        for wd in range(7)
        if (span := calendar.hours[wd]) is not None
    )
    session.flush()
    return calendar


def add_holiday(session: Session, day: date, note: str, actor: Actor, now: datetime) -> None:
    """Close `day`: a company holiday, or a public holiday given back after it was worked."""
    note = _check_note(note)
    existing = session.scalar(sa.select(CalendarHoliday).where(CalendarHoliday.day == day))
    if existing is not None and existing.change is HolidayChange.removed:
        session.delete(existing)  # the public holiday is simply back
    elif existing is not None:
        raise ValidationError("day", f"{day:%a %d %b %Y} is already a company holiday")
    elif public := load_calendar(session).public_holiday_name(day):
        raise ValidationError("day", f"{day:%a %d %b %Y} is already a public holiday ({public})")
    else:
        session.add(_change(day, HolidayChange.added, note or "Company holiday", actor, now))
    session.flush()


def remove_holiday(session: Session, day: date, note: str, actor: Actor, now: datetime) -> None:
    """Open `day`: work a public holiday, or take back a company holiday."""
    note = _check_note(note)
    existing = session.scalar(sa.select(CalendarHoliday).where(CalendarHoliday.day == day))
    if existing is not None and existing.change is HolidayChange.added:
        session.delete(existing)
    elif existing is not None:
        raise ValidationError("day", f"{day:%a %d %b %Y} is already a working day")
    elif public := load_calendar(session).public_holiday_name(day):
        session.add(_change(day, HolidayChange.removed, note or f"{public} worked", actor, now))
    else:
        raise ValidationError("day", f"{day:%a %d %b %Y} is not a holiday")
    session.flush()


def delete_holiday_change(session: Session, change_id: int) -> CalendarHoliday:
    """Undo one holiday edit; the day goes back to what the country's calendar says."""
    change = session.get(CalendarHoliday, change_id)
    if change is None:
        raise NotFound(f"holiday change {change_id}")
    session.delete(change)
    session.flush()
    return change


def holiday_changes(session: Session, since: date | None = None) -> list[CalendarHoliday]:
    """The manager's holiday edits from `since` on (all when None), by date."""
    query = sa.select(CalendarHoliday).order_by(CalendarHoliday.day)
    if since is not None:
        query = query.where(CalendarHoliday.day >= since)
    return list(session.scalars(query))


def _check_note(note: str) -> str:
    note = " ".join(note.split())
    if len(note) > NOTE_MAX:
        raise ValidationError("note", f"keep the note under {NOTE_MAX} characters")
    return note


def _change(day: date, change: HolidayChange, note: str, actor: Actor, now: datetime):
    return CalendarHoliday(
        day=day, change=change, note=note, created_at=now, created_by_id=actor.user_id
    )


@dataclass(frozen=True)
class PreviewDay:
    """One day of the preview: a business day with its local hours, or a holiday that closes it."""

    day: date
    opens: datetime | None  # team-local time
    closes: datetime | None
    holiday: str | None  # what closes an otherwise working weekday
    note: str = ""  # e.g. the public holiday a manager chose to work

    @property
    def is_open(self) -> bool:
        """A business day."""
        return self.opens is not None

    @property
    def hours(self) -> float:
        """Business hours of the day."""
        if self.opens is None or self.closes is None:
            return 0.0
        return (self.closes - self.opens) / timedelta(hours=1)


def preview_days(
    calendar: BusinessCalendar,
    start: date,
    business_days: int = PREVIEW_DAYS,
    notes: Mapping[date, str] | None = None,
) -> list[PreviewDay]:
    """The next `business_days` business days from `start`, with the holidays in between named.

    Weekends (weekdays without hours) are left out; a holiday on a working weekday is listed so
    a manager sees why that day is missing. `notes` names the manager's own holidays.
    """
    notes = notes or {}
    # The business days are the calendar's (next_business_days); only the holidays between
    # them, working weekdays without a window, are found here.
    found = calendar.next_business_days(start, business_days)
    open_days = {day: (opens, closes) for day, opens, closes in found}
    last = max(open_days, default=start)
    rows: list[PreviewDay] = []
    for day in (start + timedelta(days=n) for n in range((last - start).days + 1)):
        if day in open_days:
            public = calendar.public_holiday_name(day)
            worked = (notes.get(day) or f"{public} worked") if public else ""
            rows.append(PreviewDay(day, *open_days[day], None, worked))
        elif calendar.hours[day.weekday()] is not None:
            name = notes.get(day) if day in calendar.added_holidays else None
            rows.append(PreviewDay(day, None, None, name or calendar.holiday_name(day)))
    return rows
