"""Background jobs: APScheduler's job store table and the record of every job run."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..now import now_utc
from .base import Base, TitledEnum, UTCDateTime, enum_column

SCHEDULER_JOBS_TABLE = "scheduler_jobs"

# APScheduler's SQLAlchemyJobStore table, declared here with the same columns so migrations
# create it (the store only creates it when missing) and autogenerate never proposes dropping it.
scheduler_jobs = sa.Table(
    SCHEDULER_JOBS_TABLE,
    Base.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary, nullable=False),
)


class JobOutcome(TitledEnum):
    """How one run of a background job ended (running: not finished, or its process died)."""

    running = ("running", "Running")
    ok = ("ok", "OK")
    failed = ("failed", "Failed")


class JobRun(Base):
    """One run of one periodic job: when, how it ended, what it did, and which process ran it."""

    __tablename__ = "job_runs"
    __table_args__ = (
        sa.Index("ix_job_runs_job", "job_name", "id"),
        sa.Index("ix_job_runs_outcome", "outcome", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(sa.String(80))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[JobOutcome] = mapped_column(
        enum_column(JobOutcome, "job_outcome"), default=JobOutcome.running
    )
    error: Mapped[str] = mapped_column(sa.Text, default="")
    counts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    runner: Mapped[str] = mapped_column(sa.String(120), default="")  # host:pid of the scheduler


class SchedulerBeat(Base):
    """A scheduler process saying it is alive: one row per process, its latest beat.

    Written every few seconds by `flask scheduler` (active or waiting for the lock), so the
    readiness check and the System page can tell a running scheduler from a dead one.
    """

    __tablename__ = "scheduler_beats"

    runner: Mapped[str] = mapped_column(sa.String(120), primary_key=True)  # host:pid
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    active_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: waiting
