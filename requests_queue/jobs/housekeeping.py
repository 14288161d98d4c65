"""Keeping the job record small: runs older than the retention period are deleted."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ..models.jobs import JobRun
from .runner import JobContext

KEEP_RUNS_FOR = timedelta(days=30)


def prune_job_runs(ctx: JobContext) -> dict[str, int]:
    """Delete job runs started more than 30 days before `ctx.now` (one DELETE)."""
    result = ctx.session.execute(
        sa.delete(JobRun).where(JobRun.started_at < ctx.now - KEEP_RUNS_FOR)
    )
    return {"deleted": result.rowcount or 0}
