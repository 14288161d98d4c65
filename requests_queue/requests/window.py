"""The decision window promised when a request is filed: 3–5 business days (DOMAIN.md: SLA)."""

from __future__ import annotations

from datetime import datetime

from ..calendar import BusinessCalendar

DUE_DAYS = 3
BREACH_DAYS = 5


def decision_window(
    filed_at: datetime, calendar: BusinessCalendar | None = None
) -> tuple[datetime, datetime]:
    """(expected by, at the latest) in the team's time zone, ignoring later pauses.

    The default calendar stands in until the SLA feature passes the configured one.
    """
    cal = calendar or BusinessCalendar.default()
    due = cal.add_business_days(filed_at, DUE_DAYS).astimezone(cal.zone)
    latest = cal.add_business_days(filed_at, BREACH_DAYS).astimezone(cal.zone)
    return due, latest
