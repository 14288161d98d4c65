"""Restarting contact imports whose worker died, as a periodic job (issue 3's resume)."""

from __future__ import annotations

from collections import Counter

from ..imports import resume_stale_imports
from ..models import ImportState
from .runner import JobContext


def resume_imports(ctx: JobContext) -> dict[str, int]:
    """Resume imports whose heartbeat stopped; counts of resumed batches by final state.

    On the scheduler's SIGTERM the import under way stops after its chunk and is handed back
    for the next scheduler (counted as `running`)."""
    results = resume_stale_imports(ctx.session, ctx.now, should_stop=ctx.stopping.is_set)
    by_state = Counter(
        state.value if isinstance(state, ImportState) else "unknown" for _, state in results
    )
    return {"resumed": len(results), **by_state}
