"""Outbox delivery as a periodic job (the sender itself is in requests_queue/mail/)."""

from __future__ import annotations

from .. import mail
from .runner import JobContext, JobProblem

# Enough for a minute's worth of mail per run; a bigger backlog drains over the next runs.
BATCH_SIZE = 200
MAX_BATCHES = 5


def deliver_outbox(ctx: JobContext) -> dict[str, int]:
    """Send due outbox messages over SMTP_*; fails visibly when the server is unreachable."""
    transport = mail.transport_from_config(ctx.settings)
    report = mail.deliver_outbox(
        ctx.session,
        transport,
        batch_size=BATCH_SIZE,
        max_batches=MAX_BATCHES,
        should_stop=ctx.stopping.is_set,
    )
    counts = report.as_dict()
    if report.stopped:
        counts["stopped_for_shutdown"] = 1
    if transport is None:
        counts["smtp_not_configured"] = 1  # development: mail waits in the outbox
    if report.connect_error:
        raise JobProblem(f"SMTP server unreachable: {report.connect_error}", counts)
    return counts
