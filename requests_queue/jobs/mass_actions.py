"""Finishing mass opt-outs whose background run died, as a periodic job."""

from __future__ import annotations

from collections import Counter

from ..mass_runs import resume_mass_opt_outs
from .runner import JobContext


def resume_mass_actions(ctx: JobContext) -> dict[str, int]:
    """Resume mass opt-outs whose run stopped; counts by final state."""
    results = resume_mass_opt_outs(ctx.session, ctx.now)
    by_state = Counter(state.value if state else "busy" for _, state in results)
    return {"resumed": len(results), **by_state}
