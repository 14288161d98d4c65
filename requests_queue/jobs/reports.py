"""The dashboard's job: keep the per-request report facts current (see requests_queue/reports)."""

from __future__ import annotations

from ..calendar_store import load_calendar
from ..reports.facts import refresh_report_facts
from .runner import JobContext


def refresh_reports(ctx: JobContext) -> dict[str, int]:
    """Bring every request's dashboard facts up to date with its timeline and the calendar."""
    return refresh_report_facts(ctx.session, load_calendar(ctx.session), ctx.now)
