"""The SLA jobs: the sweep, unanswered requests, the managers' digest (see requests_queue/sla)."""

from __future__ import annotations

from ..calendar_store import load_calendar
from ..sla.digest import send_daily_digest
from ..sla.sweep import sweep_sla
from ..sla.unanswered import remind_and_close_unanswered
from .runner import JobContext

DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def _base_url(ctx: JobContext) -> str:
    return ctx.settings.get("PUBLIC_BASE_URL") or DEFAULT_BASE_URL


def sla_sweep(ctx: JobContext) -> dict[str, int]:
    """Mark at-risk and breached requests once each and notify their holders."""
    return sweep_sla(ctx.session, load_calendar(ctx.session), ctx.now, base_url=_base_url(ctx))


def unanswered_requests(ctx: JobContext) -> dict[str, int]:
    """Remind customers after 5 business days without an answer; close after 10."""
    calendar = load_calendar(ctx.session)
    return remind_and_close_unanswered(ctx.session, calendar, ctx.now, base_url=_base_url(ctx))


def daily_digest(ctx: JobContext) -> dict[str, int]:
    """The managers' morning digest (once per business day)."""
    calendar = load_calendar(ctx.session)
    return send_daily_digest(ctx.session, calendar, ctx.now, base_url=_base_url(ctx))
