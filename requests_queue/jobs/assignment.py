"""The queue's jobs: fair assignment (requests_queue/requests/auto_assign.py), its kept
counts (requests_queue/requests/queue_tally.py) and its version (…/queue_version.py)."""

from __future__ import annotations

from ..requests import queue_tally, queue_version
from ..requests.auto_assign import balance_assignments as balance
from .runner import JobContext


def balance_assignments(ctx: JobContext) -> dict[str, int]:
    """Return to the pool what agents away or off shift hold before it is at risk; assign
    the pool round robin."""
    return balance(ctx.session, ctx.now)


def tally_queue(ctx: JobContext) -> dict[str, int]:
    """Fold the queue's logged count changes into its kept counts, and its version's bumps
    into one row."""
    return {"folded": queue_tally.fold(ctx.session), "bumps": queue_version.fold(ctx.session)}
