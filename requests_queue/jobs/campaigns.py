"""Finishing double opt-in campaigns whose queueing run died, as a periodic job."""

from __future__ import annotations

from collections import Counter

from ..campaigns import RecipientLinks, resume_campaign_queueing
from .runner import JobContext


def resume_campaigns(ctx: JobContext) -> dict[str, int]:
    """Resume campaigns whose queueing run stopped; counts by final state."""
    links = RecipientLinks(ctx.settings["SECRET_KEY"], ctx.settings["PUBLIC_BASE_URL"])
    results = resume_campaign_queueing(ctx.session, links, ctx.now, ctx.stopping.is_set)
    by_state = Counter(state.value if state else "busy" for _, state in results)
    return {"resumed": len(results), **by_state}
