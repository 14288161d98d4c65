"""Facts the desk's pages read on every view that change only with the queue's version: the
team's calendar and zone, and the support users. Each web process keeps the last value of each
with the version it was read at, and reads again when the version moved
(`requests_queue.models.queue_version`: calendar tables and users are watched).

The version is read once per web request, before any fact it keeps; a request that has written
in its own transaction before that reads everything afresh and keeps nothing (its uncommitted
changes could yet roll back), and one that writes later keeps nothing it reads after its write
(`keep`, asked before keeping). A value already kept at the version is still what such a
request is given: the committed state, not its own writes (the views answer a write with a
redirect).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask import current_app

from requests_queue.calendar import BusinessCalendar
from requests_queue.calendar_store import load_calendar
from requests_queue.requests import queue_version
from requests_queue.time_zones import team_zone

from .extensions import db
from .per_request import once_per_request

T = TypeVar("T")


def version_now() -> int | None:
    """The queue's version for this web request (None: this request wrote, keep nothing)."""
    return once_per_request(
        "consent_desk.queue_version", lambda: queue_version.current_if_clean(db.session)
    )


def kept(name: str, make: Callable[[], T]) -> T:
    """`make()`'s value as of the queue's version now: kept from an earlier request of this
    process at the same version, else made and kept. `make` may read only what the version
    watches."""
    version = version_now()
    if version is None:
        return make()
    facts = current_app.extensions.setdefault("consent_desk.kept_facts", {})
    held = facts.get(name)
    if held is not None and held[0] == version:
        return held[1]
    value = make()
    if keep():
        facts[name] = (version, value)
    return value


def keep() -> bool:
    """Whether what this request read may be kept: its transaction has written nothing (asked
    only when something is about to be kept, once per version and fact)."""
    return queue_version.is_clean(db.session)


def team_calendar() -> BusinessCalendar:
    """The team's business calendar as stored (kept while the version stays)."""
    return kept("calendar", lambda: load_calendar(db.session))


def team_zone_kept() -> ZoneInfo:
    """The team's zone as a manager set it (kept while the version stays)."""
    return kept("team_zone", lambda: team_zone(db.session))
