"""Applying mass opt-outs in the background (issue 11 §1): no web request waits on them.

The customer's confirmation records the batch (`mass_actions.record_opt_out`) and answers at
once; `run_mass_opt_out` then applies it a committed chunk of contacts at a time
(`mass_actions.apply_chunk`), through the shared chunked-run machinery (`chunked`): one run
holds the batch at a time, a run that dies is resumed from its last committed chunk by the
batch's page or by the scheduler's `resume_mass_actions` job, and the batch reads "applying"
until its last chunk commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .mass_actions import CHUNK_CONTACTS, RUNS, apply_chunk
from .models import MassAction, MassActionState
from .now import now_utc

STALE_AFTER = RUNS.stale_after


def is_stalled(batch: MassAction, now: datetime) -> bool:
    """Still being applied, but its run has been silent for STALE_AFTER (it is resumed)."""
    return RUNS.is_stalled(batch, now)


def run_mass_opt_out(
    engine: sa.Engine,
    batch_id: int,
    clock: Callable[[], datetime] = now_utc,
    chunk: int = CHUNK_CONTACTS,
    stop_after_chunks: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> MassActionState | None:
    """Apply the batch to its end, a committed chunk at a time; its final state, or None when
    another run holds it. A run that raises leaves the batch `failed` with the reason; the
    chunks already applied stay applied (and listed, and undoable)."""

    def step(session: Session, batch: MassAction, now: datetime) -> bool:
        return apply_chunk(session, batch, now, limit=chunk)

    return RUNS.run(engine, batch_id, step, clock, stop_after_chunks, should_stop)


def resume_mass_opt_outs(
    session: Session, now: datetime, should_stop: Callable[[], bool] | None = None
) -> list[tuple[int, MassActionState | None]]:
    """Resume every mass opt-out whose run died or never started; (batch id, final state)."""
    engine = session.get_bind()

    def run_one(batch_id: int):
        return run_mass_opt_out(engine, batch_id, should_stop=should_stop)

    return RUNS.resume(session, now, run_one, should_stop)
