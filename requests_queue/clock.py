"""The one clock of the domain, so tests can freeze time."""

from datetime import UTC, datetime


def now_utc() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)
