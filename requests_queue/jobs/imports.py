"""Restarting background work whose worker died: contact imports and campaign queueing."""

from __future__ import annotations

from collections import Counter

from ..campaigns import RecipientLinks, resume_campaign_queueing
from ..imports import resume_stale_imports
from ..models import ImportState
from .runner import JobContext


def resume_imports(ctx: JobContext) -> dict[str, int]:
    """Resume imports whose heartbeat stopped; counts of resumed batches by final state."""
    results = resume_stale_imports(ctx.session, ctx.now)
    by_state = Counter(
        state.value if isinstance(state, ImportState) else "unknown" for _, state in results
    )
    return {"resumed": len(results), **by_state}


def resume_campaigns(ctx: JobContext) -> dict[str, int]:
    """Resume campaigns whose queueing run stopped; counts by final state."""
    links = RecipientLinks(ctx.settings["SECRET_KEY"], ctx.settings["PUBLIC_BASE_URL"])
    results = resume_campaign_queueing(ctx.session, links, ctx.now)
    by_state = Counter(state.value if state else "busy" for _, state in results)
    return {"resumed": len(results), **by_state}
