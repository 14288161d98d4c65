"""The fair-assignment job (see requests_queue/requests/auto_assign.py)."""

from __future__ import annotations

from ..requests.auto_assign import balance_assignments as balance
from .runner import JobContext


def balance_assignments(ctx: JobContext) -> dict[str, int]:
    """Return to the pool what agents away or off shift hold before it is at risk; assign
    the pool round robin."""
    return balance(ctx.session, ctx.now)
