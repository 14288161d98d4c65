"""Time zone names: the team's zone and each person's, both IANA names this machine knows.

Every time on a page is shown in its viewer's zone (`User.time_zone`); deadlines are business
hours in the team's zone (requests_queue.calendar), so pages name both where it matters.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy.orm import Session

from .calendar import BusinessCalendar
from .errors import ValidationError
from .models import CalendarSettings, User

ZONE_MAX = 64  # the column's length; the longest IANA name today is 32 characters

# strftime patterns of an instant; {day} is the day of the month without a leading zero.
STYLES = {
    "short": "{day} %b %Y, %H:%M",  # 3 Dec 2026, 14:05 CET
    "long": "%A {day} %B %Y, %H:%M",  # Thursday 10 December 2026, 17:00 CET
    "day": "%a {day} %b, %H:%M",  # Thu 10 Dec, 17:00 CET
    "time": "%H:%M",  # 17:00 CET
}


def zone_label(local: datetime) -> str:
    """The zone's abbreviation at that instant (CET, CEST, MST), or its UTC offset."""
    abbr = local.strftime("%Z")
    if abbr[:1] in "+-":  # zones without a letter abbreviation spell their offset
        sign, digits = abbr[0], abbr[1:]
        abbr = f"UTC{sign}{digits[:2]}" + (f":{digits[2:]}" if digits[2:] else "")
    return abbr


def clock_text(local: datetime, pattern: str) -> str:
    """`local` by the strftime `pattern` ({day}: day of the month), its zone named."""
    return local.strftime(pattern.format(day=local.day)) + " " + zone_label(local)


def instant_text(
    value: datetime, zone: tzinfo, style: str = "short", team: tzinfo | None = None
) -> str:
    """An instant as a person reads it, on a page or in an email: in `zone`, the zone named;
    with `team`, the team's time added when it reads differently ("… (09:00 MST team time)"),
    as deadlines are business hours in the team's zone."""
    if value.tzinfo is None:  # stored instants are UTC
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(zone)
    text = clock_text(local, STYLES[style])
    if team is not None:
        at_team = value.astimezone(team)
        if clock_text(at_team, "%H:%M") != clock_text(local, "%H:%M"):
            pattern = "%H:%M" if at_team.date() == local.date() else "%a {day} %b, %H:%M"
            text += f" ({clock_text(at_team, pattern)} team time)"
    return text


def own_zone(user: object) -> ZoneInfo | None:
    """The zone `user` chose (at the first login or on the account page), if zoneinfo knows
    it; None for nobody, a visitor, or a person without one yet."""
    name = getattr(user, "time_zone", None)
    return ZoneInfo(name) if name and is_zone_name(name) else None


def reader_zone(user: User | None, team: tzinfo) -> tzinfo:
    """The zone `user` reads times in: theirs once set, else the team's."""
    return own_zone(user) or team


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted."""
    return tuple(sorted(available_timezones()))


def team_zone(session: Session) -> ZoneInfo:
    """The support team's zone as a manager set it (the calendar's default until then)."""
    settings = session.get(CalendarSettings, 1)
    return ZoneInfo(settings.timezone if settings else BusinessCalendar.timezone)


def is_zone_name(name: str) -> bool:
    """Whether `name` is an IANA zone name this machine knows (exactly as spelled)."""
    return name in _known()


def check_zone_name(name: str, field: str, example: str = "Europe/Berlin") -> str:
    """`name` without surrounding spaces, or ValidationError on `field` if it is no zone name."""
    zone = name.strip()
    if not is_zone_name(zone):
        shown = zone if len(zone) <= ZONE_MAX else zone[:ZONE_MAX] + "…"
        raise ValidationError(
            field, f"{shown or 'That'} is not an IANA time zone name (for example {example})"
        )
    return zone


def set_time_zone(user: User, name: str) -> None:
    """Show `user` every time in the zone `name`, or refuse it on the field `time_zone`."""
    user.time_zone = check_zone_name(name, "time_zone")


def adopt_browser_zone(user: User, name: str | None) -> bool:
    """At login: take the browser's zone if the user has none yet and it is a real zone name;
    whether it was taken. A missing or unknown one is ignored (the account page can set it)."""
    if user.time_zone is not None or not name or not is_zone_name(name.strip()):
        return False
    user.time_zone = name.strip()
    return True


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(timezone_names())
