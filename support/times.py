"""How every page shows a time: in the viewer's zone, with the zone named (issue 14).

`dt` is the one Jinja filter for instants and dates. A person's zone is `User.time_zone`
(the browser's at the first login, or picked on the account page); before that, and for
visitors without a login, the team's zone. Deadlines are business hours in the team's zone,
so `dt(..., team=True)` adds the team's clock time when it reads differently.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

from flask import has_request_context
from flask_login import current_user

from requests_queue.time_zones import instant_text, own_zone

from .kept_facts import team_zone_kept
from .per_request import once_per_request

# Styles that name no zone: the day alone (in the viewer's zone), or a bare clock time for a
# table whose heading names the zone.
BARE = {"date": "{day} %b %Y", "clock": "%H:%M"}
DATE_STYLES = {
    "short": "{day} %b %Y",
    "date": "{day} %b %Y",
    "long": "%A {day} %B %Y",
    "day": "%a {day} %b %Y",
}
_VIEWER, _TEAM = "consent_desk.viewer_zone", "consent_desk.team_zone"


def team_tz() -> tzinfo:
    """The team's zone, read once per request."""
    return once_per_request(_TEAM, team_zone_kept)


def viewer_tz() -> tzinfo:
    """The zone this request's viewer sees times in: theirs, else the team's."""

    def make() -> tzinfo:
        return (own_zone(current_user) if has_request_context() else None) or team_tz()

    return once_per_request(_VIEWER, make)


def format_time(
    value: datetime | date | time | None,
    style: str = "short",
    zone: str | tzinfo | None = None,
    team: bool = False,
) -> str:
    """`value` in the viewer's zone (or `zone`: "team", "UTC" or a tzinfo), the zone named;
    `team=True` adds the team's time when it reads differently ("… (09:00 MST team time)")."""
    if value is None:
        return "—"
    if isinstance(value, time):  # a time of day of weekly hours: the heading names the zone
        return value.strftime("%H:%M")
    if not isinstance(value, datetime):  # a calendar day: no clock, no zone
        return value.strftime(DATE_STYLES[style].format(day=value.day))
    if value.tzinfo is None:  # stored instants are UTC
        value = value.replace(tzinfo=UTC)
    if zone == "team":
        zone = team_tz()
    elif zone == "UTC":
        zone = UTC
    zone = zone or viewer_tz()
    if style in BARE:
        local = value.astimezone(zone)
        return local.strftime(BARE[style].format(day=local.day))
    return instant_text(value, zone, style, team_tz() if team else None)


def viewer_zone_name() -> str:
    """The viewer's zone as its IANA name, for a page to say which zone its times are in."""
    return str(viewer_tz())
