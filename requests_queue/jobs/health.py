"""How the background jobs are doing, for the managers' page: derived from `JobRun` rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..enums import TitledEnum
from ..models.jobs import JobOutcome, JobRun
from .schedule import SCHEDULE, PeriodicJob

RECENT = timedelta(hours=24)


class JobHealth(TitledEnum):
    """A job's state as a manager needs it (computed, never stored)."""

    ok = ("ok", "OK")
    running = ("running", "Running")
    failing = ("failing", "Last run failed")
    interrupted = ("interrupted", "Stopped mid-run")
    overdue = ("overdue", "Overdue: is the scheduler running?")
    never_run = ("never_run", "Never run: is the scheduler running?")
    waiting = ("waiting", "Waiting for its first time of day")

    @property
    def is_problem(self) -> bool:
        """Something a manager should look at."""
        return self not in (JobHealth.ok, JobHealth.running, JobHealth.waiting)


@dataclass(frozen=True)
class JobStatus:
    """One schedule row with its latest run, last success and recent failures."""

    job: PeriodicJob
    health: JobHealth
    last: JobRun | None
    last_ok_at: datetime | None
    failures_recent: int


def health_of(
    job: PeriodicJob, last: JobRun | None, now: datetime, scheduler_since: datetime | None = None
) -> JobHealth:
    """The state of `job` given its latest run.

    `scheduler_since` is when any job first ran: a daily job a scheduler started after its
    time of day has not had its turn yet (interval jobs run as soon as a new scheduler starts,
    see `scheduler.sync_jobs`).
    """
    if last is None:
        if (
            job.daily_at is not None
            and scheduler_since is not None
            and now - scheduler_since < job.expected_gap + timedelta(minutes=5)
        ):
            return JobHealth.waiting
        return JobHealth.never_run
    if last.outcome is JobOutcome.running:
        late = now - last.started_at > job.timeout + timedelta(minutes=1)
        return JobHealth.interrupted if late else JobHealth.running
    if last.outcome is JobOutcome.failed:
        return JobHealth.failing
    if now - last.started_at > job.expected_gap * 2 + timedelta(minutes=5):
        return JobHealth.overdue
    return JobHealth.ok


def job_statuses(
    session: Session, now: datetime, schedule: tuple[PeriodicJob, ...] = SCHEDULE
) -> list[JobStatus]:
    """Every scheduled job's status, in schedule order (four grouped queries)."""
    since = session.scalar(sa.select(sa.func.min(JobRun.started_at)))
    latest_ids = sa.select(sa.func.max(JobRun.id)).group_by(JobRun.job_name)
    latest = {
        r.job_name: r for r in session.scalars(sa.select(JobRun).where(JobRun.id.in_(latest_ids)))
    }
    last_ok = dict(
        session.execute(
            sa.select(JobRun.job_name, sa.func.max(JobRun.finished_at))
            .where(JobRun.outcome == JobOutcome.ok)
            .group_by(JobRun.job_name)
        ).all()
    )
    failures = dict(
        session.execute(
            sa.select(JobRun.job_name, sa.func.count())
            .where(JobRun.outcome == JobOutcome.failed, JobRun.started_at >= now - RECENT)
            .group_by(JobRun.job_name)
        ).all()
    )
    return [
        JobStatus(
            job=job,
            health=health_of(job, latest.get(job.name), now, since),
            last=latest.get(job.name),
            last_ok_at=last_ok.get(job.name),
            failures_recent=failures.get(job.name, 0),
        )
        for job in schedule
    ]


def recent_failures(session: Session, now: datetime, limit: int = 10) -> list[JobRun]:
    """The latest failed runs of the last 24 hours, newest first."""
    return list(
        session.scalars(
            sa.select(JobRun)
            .where(JobRun.outcome == JobOutcome.failed, JobRun.started_at >= now - RECENT)
            .order_by(JobRun.id.desc())
            .limit(limit)
        )
    )
