"""Webhook delivery as a periodic job (the sender itself is requests_queue/webhooks/sender.py)."""

from __future__ import annotations

from ..webhooks.sender import SendSettings, deliver_webhooks
from .runner import JobContext


def deliver_webhooks_job(ctx: JobContext) -> dict[str, int]:
    """POST due webhook deliveries, signed; failures wait with backoff for up to 24 hours."""
    report = deliver_webhooks(
        ctx.session,
        SendSettings.from_settings(ctx.settings),
        should_stop=ctx.stopping.is_set,
    )
    return report.as_dict()
