"""The scheduler process: wait for the lock, then run the schedule with APScheduler.

Jobs live in the database job store with coalescing, so a scheduler that was down runs each
missed job once when it comes back, not once per missed tick. Only the lock holder runs jobs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session

from ..calendar_store import load_calendar
from ..models.jobs import SCHEDULER_JOBS_TABLE
from . import runner as job_runner
from .beats import BEAT_EVERY, forget_beat, record_beat, recover_after_takeover
from .locks import FileLock, SchedulerLock
from .schedule import PeriodicJob

log = logging.getLogger(__name__)
ENTRY_POINT = "requests_queue.jobs.runner:run_scheduled"
SYNC_SECONDS = 60


class SchedulerAlreadyRunning(RuntimeError):
    """Another scheduler holds the SQLite lock file; this one refuses to start."""


def trigger_for(job: PeriodicJob, zone: ZoneInfo, tick: float | None = None) -> BaseTrigger:
    """The APScheduler trigger of one schedule row; `tick` (tests only) replaces every cadence."""
    if tick:
        return IntervalTrigger(seconds=tick, timezone=UTC)
    if job.every is not None:
        return IntervalTrigger(seconds=job.every.total_seconds(), timezone=UTC)
    return CronTrigger(hour=job.daily_at.hour, minute=job.daily_at.minute, timezone=zone)


def _signature(trigger: BaseTrigger) -> tuple:
    if isinstance(trigger, IntervalTrigger):
        return ("interval", trigger.interval_length)
    return (type(trigger).__name__, str(trigger), str(getattr(trigger, "timezone", "")))


def _job_options(job: PeriodicJob) -> dict:
    grace = job.misfire_grace
    return {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": None if grace is None else int(grace.total_seconds()),
    }


def sync_jobs(
    scheduler: BackgroundScheduler,
    schedule: tuple[PeriodicJob, ...],
    zone: ZoneInfo,
    tick: float | None = None,
) -> None:
    """Make the job store match the schedule table without touching unchanged jobs.

    An unchanged job keeps its stored next run time, even one in the past: that is what lets
    a restarted scheduler catch up. A changed cadence or zone reschedules from now.
    """
    wanted = {job.name: job for job in schedule}
    for stored in scheduler.get_jobs():
        if stored.id not in wanted:
            log.info("removing job %s: no longer in the schedule", stored.id)
            scheduler.remove_job(stored.id)
    for name, job in wanted.items():
        trigger = trigger_for(job, zone, tick)
        options = _job_options(job)
        stored = scheduler.get_job(name)
        if stored is None or stored.func_ref != ENTRY_POINT or stored.args != (name,):
            if job.every is not None and not tick:
                # New to the store (a fresh installation): an interval job's first run is at
                # once, not one interval later, so the outbox and the sweeps start working
                # as the scheduler comes up. Daily jobs wait for their time of day.
                options["next_run_time"] = datetime.now(UTC)
            scheduler.add_job(
                ENTRY_POINT, trigger, args=(name,), id=name, name=name,
                replace_existing=True, **options,
            )  # fmt: skip
        elif _signature(stored.trigger) != _signature(trigger):
            log.info("rescheduling %s: %s", name, trigger)
            scheduler.reschedule_job(name, trigger=trigger)
            scheduler.modify_job(name, **options)
        elif any(getattr(stored, key) != value for key, value in options.items()):
            scheduler.modify_job(name, **options)


class _Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, minus one shutdown race.

    APScheduler 3 wakes its loop once more after `shutdown()` set the state to stopped; a job
    due at that moment is handed to the closed executor (so it does not run) and its next run
    time is still advanced, which silently loses the catch-up run. Stopped means stopped.
    """

    def _process_jobs(self):
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()


class _JobStore(SQLAlchemyJobStore):
    """The database job store on the app's engine, which it must not dispose on shutdown."""

    def shutdown(self) -> None:
        """Keep the engine: the app and the job runner still use it."""


def build_scheduler(engine: sa.Engine, workers: int = 4) -> BackgroundScheduler:
    """A background scheduler over the database job store (coalesce, one instance per job)."""
    return _Scheduler(
        jobstores={"default": _JobStore(engine=engine, tablename=SCHEDULER_JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=UTC,
    )


class SchedulerProcess:
    """Wait for the lock, run the schedule while holding it, stop cleanly when asked.

    A lost lock (PostgreSQL connection gone) stops job processing and goes back to waiting,
    so two schedulers never run jobs at the same time for longer than one poll.
    """

    def __init__(
        self,
        runner: job_runner.JobRunner,
        lock: SchedulerLock,
        poll_seconds: float = 2.0,
        tick_seconds: float | None = None,
        on_event: Callable[[str], None] = log.info,
    ) -> None:
        self.runner = runner
        self.lock = lock
        self.poll = poll_seconds
        self.tick = tick_seconds
        self.say = on_event
        self.scheduler: BackgroundScheduler | None = None
        self.db_down = False
        self.started_at = runner.clock()
        self.active_since: datetime | None = None
        self.last_beat = float("-inf")

    def run(self, stop: threading.Event) -> None:
        """Block until `stop` is set; raise `SchedulerAlreadyRunning` for a held SQLite lock."""
        waiting_said = False
        try:
            while not stop.is_set():
                if not self._try_lock():
                    if isinstance(self.lock, FileLock):
                        raise SchedulerAlreadyRunning(
                            "Another scheduler is already running for this database "
                            f"(pid {self.lock.holder_pid()}, {self.lock.describe()}). "
                            "SQLite allows only one; stop it first."
                        )
                    if not waiting_said:
                        self.say(f"Another scheduler is active; waiting ({self.lock.describe()}).")
                        waiting_said = True
                    self._beat()
                    stop.wait(self.poll)
                    continue
                waiting_said = False
                self.say(f"Scheduler active ({self.runner.runner}, {self.lock.describe()}).")
                self._run_while_locked(stop)
        finally:
            self._stop_scheduler()
            self.lock.release()
            self._forget_beat()

    def _try_lock(self) -> bool:
        try:
            got = self.lock.acquire()
        except sa.exc.DBAPIError as exc:
            if not self.db_down:  # once per outage, not every poll
                self.say(f"Database unavailable for the scheduler lock ({exc.orig}); retrying.")
            self.db_down = True
            return False
        self.db_down = False
        return got

    def _run_while_locked(self, stop: threading.Event) -> None:
        self._take_over()
        job_runner.install(self.runner)
        scheduler = self.scheduler = build_scheduler(self.runner.engine)
        scheduler.start(paused=True)
        self._sync()
        scheduler.resume()
        synced = time.monotonic()
        self._beat(force=True)
        while not stop.wait(self.poll):
            if not self.lock.is_held():
                self.say("Lost the scheduler lock; stopping jobs and waiting to take it again.")
                break
            self._beat()
            if time.monotonic() - synced >= SYNC_SECONDS:  # picks up a new team time zone
                self._sync()
                synced = time.monotonic()
        self._stop_scheduler()

    def _sync(self) -> None:
        try:
            with Session(self.runner.engine) as session:
                zone = load_calendar(session).zone
            sync_jobs(self.scheduler, self.runner.schedule, zone, self.tick)
        except sa.exc.DBAPIError:
            log.warning("could not sync the schedule; keeping the current one", exc_info=True)

    def _take_over(self) -> None:
        """Whatever a dead scheduler left running or claimed is ours to close now."""
        self.runner.stopping.clear()
        self.active_since = self.runner.clock()
        try:
            with Session(self.runner.engine) as session:
                recover_after_takeover(session, self.runner.clock())
        except sa.exc.DBAPIError:
            log.warning("could not recover a previous scheduler's work", exc_info=True)

    def _beat(self, force: bool = False) -> None:
        """Tell readiness checks this process is alive (every BEAT_EVERY, never raising)."""
        if not force and time.monotonic() - self.last_beat < BEAT_EVERY.total_seconds():
            return
        self.last_beat = time.monotonic()
        try:
            with Session(self.runner.engine) as session:
                record_beat(
                    session, self.runner.runner, self.started_at, self.runner.clock(),
                    self.active_since,
                )  # fmt: skip
                session.commit()
        except sa.exc.DBAPIError:
            log.warning("could not record the scheduler's heartbeat", exc_info=True)

    def _forget_beat(self) -> None:
        try:
            with Session(self.runner.engine) as session:
                forget_beat(session, self.runner.runner)
                session.commit()
        except sa.exc.DBAPIError:
            log.warning("could not remove the scheduler's heartbeat", exc_info=True)

    def _stop_scheduler(self) -> None:
        # Running jobs see `stopping` and end between units of work (the sender between
        # two messages), so shutdown takes seconds, not a whole batch.
        self.runner.stopping.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.scheduler = None
        self.active_since = None
        job_runner.uninstall(self.runner)
