"""The wall clock of the domain (not the SLA clock, sla/clock.py), so tests can freeze time."""

from datetime import UTC, datetime


def now_utc() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)
