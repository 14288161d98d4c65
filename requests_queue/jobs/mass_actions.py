"""Finishing mass opt-outs, approvals and request freezes whose background run died, and
keeping open requests' eligibility counts current, as periodic jobs."""

from __future__ import annotations

from collections import Counter

from ..mass_runs import resume_mass_opt_outs
from ..requests.applying import resume_approvals as resume_approval_runs
from ..requests.freezing import resume_freezes as resume_freeze_runs
from ..requests.kept_eligibility import refresh_open
from .runner import JobContext


def resume_mass_actions(ctx: JobContext) -> dict[str, int]:
    """Resume mass opt-outs whose run stopped; counts by final state."""
    results = resume_mass_opt_outs(ctx.session, ctx.now, ctx.stopping.is_set)
    by_state = Counter(state.value if state else "busy" for _, state in results)
    return {"resumed": len(results), **by_state}


def resume_approvals(ctx: JobContext) -> dict[str, int]:
    """Resume approvals whose application run stopped; counts by final state."""
    results = resume_approval_runs(
        ctx.session, ctx.now, ctx.settings["PUBLIC_BASE_URL"], ctx.stopping.is_set
    )
    by_state = Counter(state.value if state else "busy" for _, state in results)
    return {"resumed": len(results), **by_state}


def resume_freezes(ctx: JobContext) -> dict[str, int]:
    """Resume request freezes whose run stopped; counts by final state."""
    results = resume_freeze_runs(ctx.session, ctx.now, ctx.stopping.is_set)
    by_state = Counter(state.value if state else "busy" for _, state in results)
    return {"resumed": len(results), **by_state}


def keep_eligibility(ctx: JobContext) -> dict[str, int]:
    """Move open requests' kept eligibility counts forward to the newest status change."""
    return {"moved": refresh_open(ctx.session)}
