"""The scheduler's heartbeat, and what a scheduler cleans up when it takes the lock.

A scheduler that holds the single-scheduler lock knows that no other scheduler runs jobs:
whatever an earlier one left half-done (a job run still `running`, outbox messages still
claimed) belongs to a process that is gone, so it is closed or reclaimed at once instead of
waiting for a timeout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..mail.sender import DEFAULT_POLICY, reclaim_stuck
from ..models.jobs import JobOutcome, JobRun, SchedulerBeat

log = logging.getLogger(__name__)

BEAT_EVERY = timedelta(seconds=10)
# Readiness: a scheduler whose last beat is older than this is taken for dead.
ALIVE_WITHIN = timedelta(minutes=2)
# Rows of processes silent this long are forgotten (the page lists live ones).
FORGET_AFTER = timedelta(days=1)
INTERRUPTED = "Interrupted: the scheduler running it stopped before it finished ({runner})."


def record_beat(
    session: Session, runner: str, started_at: datetime, now: datetime, active_since=None
) -> None:
    """Write this process's beat (insert or update its row); the caller commits."""
    updated = session.execute(
        sa.update(SchedulerBeat)
        .where(SchedulerBeat.runner == runner)
        .values(beat_at=now, active_since=active_since)
    ).rowcount
    if not updated:
        session.add(
            SchedulerBeat(
                runner=runner, started_at=started_at, beat_at=now, active_since=active_since
            )
        )
    session.execute(sa.delete(SchedulerBeat).where(SchedulerBeat.beat_at < now - FORGET_AFTER))


def forget_beat(session: Session, runner: str) -> None:
    """A scheduler that stops cleanly removes its row; the caller commits."""
    session.execute(sa.delete(SchedulerBeat).where(SchedulerBeat.runner == runner))


@dataclass(frozen=True)
class Takeover:
    """What a scheduler found left behind when it took the lock."""

    runs_closed: int
    messages_released: int
    messages_uncertain: int


def recover_after_takeover(session: Session, now: datetime) -> Takeover:
    """Close job runs and reclaim outbox claims that a dead scheduler left; commits.

    Called only by the lock holder, before it runs any job: every `running` job run and
    every `sending` claim then belongs to a process that no longer runs jobs. Claims never
    handed to SMTP go back to pending; handed-over ones are marked uncertain (at most once).
    """
    runs = session.execute(
        sa.select(JobRun.id, JobRun.runner).where(JobRun.outcome == JobOutcome.running)
    ).all()
    for run_id, runner in runs:
        session.execute(
            sa.update(JobRun)
            .where(JobRun.id == run_id, JobRun.outcome == JobOutcome.running)
            .values(
                outcome=JobOutcome.failed,
                finished_at=now,
                error=INTERRUPTED.format(runner=runner or "unknown process"),
            )
        )
    # Every claim older than this instant is a dead sender's: reclaim with a zero timeout.
    released, uncertain = reclaim_stuck(session, now, DEFAULT_POLICY, timeout=timedelta(0))
    session.commit()
    result = Takeover(len(runs), released, uncertain)
    if any((result.runs_closed, released, uncertain)):
        log.warning(
            "taking over: closed %d interrupted job run(s); outbox: %d claim(s) released, "
            "%d marked uncertain",
            *(result.runs_closed, released, uncertain),
        )
    return result
