"""Time zone names: the team's zone and each person's, both IANA names this machine knows.

Every time on a page is shown in its viewer's zone (`User.time_zone`); deadlines are business
hours in the team's zone (requests_queue.calendar), so pages name both where it matters.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy.orm import Session

from .calendar import BusinessCalendar
from .errors import ValidationError
from .models import CalendarSettings, User

ZONE_MAX = 64  # the column's length; the longest IANA name today is 32 characters


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
