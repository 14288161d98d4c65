"""Specs for the scheduler loop in-process: job store sync, catch-up, the one-active lock."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from requests_queue.jobs.locks import AdvisoryLock, lock_for
from requests_queue.jobs.runner import JobRunner
from requests_queue.jobs.schedule import PeriodicJob
from requests_queue.jobs.scheduler import (
    ENTRY_POINT,
    SchedulerAlreadyRunning,
    SchedulerProcess,
    build_scheduler,
    sync_jobs,
    trigger_for,
)
from requests_queue.models import JobRun, scheduler_jobs
from requests_queue.models.jobs import SCHEDULER_JOBS_TABLE
from requests_queue.now import now_utc
from tests.child_processes import wait_until

PRUNE = "requests_queue.jobs.housekeeping:prune_job_runs"
UTC_ZONE = ZoneInfo("UTC")


def every(name: str, seconds: float) -> PeriodicJob:
    """A schedule row running the (idempotent) prune job every `seconds`."""
    return PeriodicJob(name, PRUNE, name, timedelta(seconds=30), every=timedelta(seconds=seconds))


def stored_next_run(engine, job_id: str) -> datetime | None:
    """The next run time APScheduler keeps in the job store table."""
    with engine.connect() as conn:
        ts = conn.scalar(
            sa.select(scheduler_jobs.c.next_run_time).where(scheduler_jobs.c.id == job_id)
        )
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def runs(session, name: str | None = None) -> list[JobRun]:
    """Finished job runs, oldest first."""
    session.expire_all()
    query = sa.select(JobRun).where(JobRun.finished_at.is_not(None)).order_by(JobRun.id)
    if name:
        query = query.where(JobRun.job_name == name)
    return list(session.scalars(query))


class Running:
    """A SchedulerProcess on a thread, stopped and joined on exit."""

    def __init__(self, process: SchedulerProcess):
        self.process, self.stop = process, threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.process.run(self.stop)
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(20)
        assert not self.thread.is_alive()


def test_sync_keeps_unchanged_jobs_reschedules_changed_ones_and_drops_strays(db):
    scheduler = build_scheduler(db.engine)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, (every("a", 60), every("b", 60), every("old", 60)), UTC_ZONE)
        past = now_utc() - timedelta(hours=2)
        scheduler.modify_job("a", next_run_time=past)
        scheduler.modify_job("b", next_run_time=past)
        sync_jobs(scheduler, (every("a", 60), every("b", 300)), UTC_ZONE)
        assert {job.id for job in scheduler.get_jobs()} == {"a", "b"}
        assert stored_next_run(db.engine, "a") == past  # kept: a restart still catches up
        assert stored_next_run(db.engine, "b") > now_utc()  # new cadence counts from now
        job = scheduler.get_job("a")
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
    finally:
        scheduler.shutdown()


def test_daily_jobs_follow_the_team_time_zone(db):
    daily = PeriodicJob("digest", PRUNE, "d", timedelta(minutes=1), daily_at=datetime.min.time())
    scheduler = build_scheduler(db.engine)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, (daily,), ZoneInfo("America/Phoenix"))
        sync_jobs(scheduler, (daily,), ZoneInfo("Europe/Berlin"))
        midnight = stored_next_run(db.engine, "digest").astimezone(ZoneInfo("Europe/Berlin"))
        assert (midnight.hour, midnight.minute) == (0, 0)
    finally:
        scheduler.shutdown()


def test_a_new_installation_runs_its_interval_jobs_at_once_and_daily_ones_at_their_time(db):
    daily = PeriodicJob("digest", PRUNE, "d", timedelta(minutes=1), daily_at=datetime.min.time())
    scheduler = build_scheduler(db.engine)
    scheduler.start(paused=True)
    try:
        before = now_utc()
        sync_jobs(scheduler, (every("outbox", 60), daily), UTC_ZONE)
        # The outbox does not wait a minute after the first start …
        assert before - timedelta(seconds=1) <= stored_next_run(db.engine, "outbox") <= now_utc()
        # … the digest waits for its time of day.
        assert stored_next_run(db.engine, "digest") > now_utc()
    finally:
        scheduler.shutdown()


def leave_in_store(engine, job: PeriodicJob, next_run_time: datetime) -> None:
    """What a scheduler that went down leaves behind: the job in the store, due long ago."""
    scheduler = build_scheduler(engine)  # never started: only its job store is used
    store = SQLAlchemyJobStore(engine=engine, tablename=SCHEDULER_JOBS_TABLE)
    store.start(scheduler, "default")
    store.add_job(
        Job(
            scheduler, id=job.name, name=job.name, func=ENTRY_POINT, args=(job.name,),
            kwargs={}, trigger=trigger_for(job, UTC_ZONE), executor="default", coalesce=True,
            max_instances=1, misfire_grace_time=None, next_run_time=next_run_time,
        )
    )  # fmt: skip


def test_a_scheduler_that_was_down_runs_a_missed_job_once(db, session, tmp_path):
    schedule = (every("prune", 60),)
    # About sixty ticks were missed; the next regular one is half a minute away, beyond the test.
    leave_in_store(db.engine, schedule[0], now_utc() - timedelta(seconds=3630))

    process = SchedulerProcess(
        JobRunner(db.engine, schedule=schedule), lock_for(db.engine, tmp_path), poll_seconds=0.1
    )
    with Running(process) as running:
        wait_until(lambda: runs(session), what="the catch-up run")
        wait_until(lambda: stored_next_run(db.engine, "prune") > now_utc(), what="next tick")
    assert running.error is None
    assert len(runs(session)) == 1


def test_sqlite_refuses_a_second_scheduler_naming_the_first(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'desk.sqlite'}")
    held = lock_for(engine, tmp_path)
    assert held.path == tmp_path / "desk.sqlite.scheduler.lock"
    assert held.acquire()
    try:
        process = SchedulerProcess(JobRunner(engine), lock_for(engine, tmp_path))
        with pytest.raises(SchedulerAlreadyRunning, match=r"already running .*pid \d+"):
            process.run(threading.Event())
    finally:
        held.release()
        engine.dispose()
    again = lock_for(engine, tmp_path)
    assert again.acquire()  # free once the first let go
    again.release()


def granted_scheduler_locks(engine, key: int) -> int:
    """How many sessions hold the scheduler's advisory lock."""
    with engine.connect() as conn:
        return conn.scalar(
            sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND objid = :key"),
            {"key": key},
        )  # fmt: skip


@pytest.mark.postgres_only
def test_a_scheduler_whose_connection_dies_stops_its_jobs_and_competes_again(db, session):
    schedule = (every("tick", 0.2),)
    first_said: list[str] = []
    second_said: list[str] = []
    first = SchedulerProcess(
        JobRunner(db.engine, schedule=schedule), AdvisoryLock(db.engine), 0.1, 0.2,
        on_event=first_said.append,
    )  # fmt: skip
    second = SchedulerProcess(
        JobRunner(db.engine, schedule=schedule), AdvisoryLock(db.engine), 0.1, 0.2,
        on_event=second_said.append,
    )  # fmt: skip
    second.runner.runner = "second"
    with ExitStack() as running:
        running_first = running.enter_context(Running(first))
        # The second starts once the first holds the lock, so which one waits is certain (both
        # at once, a busy machine let the second win the lock now and then).
        wait_until(lambda: any("Scheduler active" in line for line in first_said), what="first")
        running.enter_context(Running(second))
        wait_until(lambda: len(runs(session)) >= 3, what="runs by the first scheduler")
        wait_until(lambda: any("waiting" in line for line in second_said), what="second waits")
        assert {r.runner for r in runs(session)} == {first.runner.runner}
        # The lock's connection dies (server restart, network): the server frees the lock.
        with db.engine.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = "
                        "'advisory' AND objid = :key AND granted"),
                {"key": first.lock.key},
            )  # fmt: skip
        wait_until(lambda: any("Lost the scheduler lock" in line for line in first_said))
        seen = len(runs(session))
        wait_until(lambda: len(runs(session)) >= seen + 3, what="jobs to go on")
        assert granted_scheduler_locks(db.engine, first.lock.key) == 1
        running_first.stop.set()  # the first one goes away for good: the other takes over
        wait_until(lambda: any(r.runner == "second" for r in runs(session)), what="takeover")
