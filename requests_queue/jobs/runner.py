"""Run one job: a `JobRun` row before, the job in its own session, the outcome after.

The row is committed before the job starts, so a run whose process dies stays visible as
unfinished. The job's own work commits (or rolls back) separately from that record.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import sqlite3
import threading
import time as _time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ..logcontext import running
from ..models.jobs import JobOutcome, JobRun
from ..now import now_utc
from .schedule import SCHEDULE, PeriodicJob, job_named

log = logging.getLogger(__name__)
ERROR_MAX = 8000

Counts = Mapping[str, int]


@dataclass(frozen=True)
class JobContext:
    """What a job function gets: its session (it may commit), the run's instant and settings."""

    session: Session
    now: datetime
    job: PeriodicJob
    settings: Mapping[str, Any] = field(default_factory=dict)
    # Set when the scheduler is shutting down: long jobs check it between units of work.
    stopping: threading.Event = field(default_factory=threading.Event)
    run_id: int | None = None


class JobProblem(Exception):
    """A job finished its work but something needs a person (the run is recorded as failed)."""

    def __init__(self, message: str, counts: Counts | None = None) -> None:
        super().__init__(message)
        self.counts = dict(counts or {})


def resolve(ref: str) -> Callable[[JobContext], Counts | int | None]:
    """Import "package.module:function" (at run time, so the table needs no imports)."""
    module_name, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def runner_id() -> str:
    """host:pid, recorded on each run so two schedulers are told apart."""
    return f"{socket.gethostname()}:{os.getpid()}"


class JobRunner:
    """Runs the jobs of `schedule` against `engine`, recording each run as a `JobRun`."""

    def __init__(
        self,
        engine: sa.Engine,
        settings: Mapping[str, Any] | None = None,
        schedule: tuple[PeriodicJob, ...] = SCHEDULE,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.engine = engine
        self.settings = dict(settings or {})
        self.schedule = schedule
        self.clock = clock
        self.sessions = sessionmaker(bind=engine)
        self.runner = runner_id()
        self.stopping = threading.Event()

    def run(self, name: str) -> int:
        """Run the job called `name` now; returns the id of its `JobRun` (failures included)."""
        job = job_named(name, self.schedule)
        now = self.clock()
        with self.sessions() as session:
            record = JobRun(job_name=name, started_at=now, runner=self.runner)
            session.add(record)
            session.commit()
            run_id = record.id
        outcome, counts, error = JobOutcome.ok, {}, ""
        with running(f"job:{name}", run_id):
            try:
                counts = _as_counts(self._call(job, now, run_id))
            except JobProblem as exc:
                outcome, counts, error = JobOutcome.failed, _as_counts(exc.counts), str(exc)
                log.warning("job %s: %s", name, exc)
            except Exception as exc:
                outcome = JobOutcome.failed
                error = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"[:ERROR_MAX]
                log.exception("job %s failed", name)
            else:
                log.info("job %s: ok %s", name, counts or "")
        with self.sessions() as session:
            session.execute(
                sa.update(JobRun)
                .where(JobRun.id == run_id)
                .values(finished_at=self.clock(), outcome=outcome, counts=counts, error=error)
            )
            session.commit()
        return run_id

    def _call(self, job: PeriodicJob, now: datetime, run_id: int) -> Counts | int | None:
        func = resolve(job.func)
        with self.sessions() as session:
            guard = _StatementTimeout(session, job.timeout.total_seconds())
            try:
                ctx = JobContext(session, now, job, self.settings, self.stopping, run_id)
                result = func(ctx)
                session.commit()
                return result
            except Exception:
                session.rollback()
                raise
            finally:
                guard.disarm()


def _as_counts(result: Counts | int | None) -> dict[str, int]:
    if result is None:
        return {}
    if isinstance(result, int):
        return {"count": result}
    return {str(key): int(value) for key, value in result.items()}


class _StatementTimeout:
    """Stop the job's SQL once `seconds` have passed: statement_timeout on PostgreSQL,
    a progress handler that interrupts the query on SQLite (which has no such setting).

    Both last only as long as the job session's transaction: SET LOCAL ends with it, and the
    SQLite handler ignores a connection once the session gave it back to the pool (code that
    the job calls may check it out again, e.g. an import run, and must not be cut short).
    """

    def __init__(self, session: Session, seconds: float) -> None:
        self.deadline = _time.monotonic() + seconds
        self.milliseconds = max(1, int(seconds * 1000))
        self.armed = True
        self.in_transaction: set[int] = set()
        sa.event.listen(session, "after_begin", self._on_begin)
        sa.event.listen(session, "after_transaction_end", self._on_end)

    def _on_begin(self, _session, _transaction, connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {self.milliseconds}")
        elif connection.dialect.name == "sqlite":
            raw = connection.connection.driver_connection
            if isinstance(raw, sqlite3.Connection):
                self.in_transaction.add(id(raw))
                raw.set_progress_handler(lambda: self._expired(id(raw)), 10_000)

    def _on_end(self, _session, transaction) -> None:
        if transaction.parent is None:
            self.in_transaction.clear()

    def _expired(self, raw_id: int) -> int:
        active = self.armed and raw_id in self.in_transaction
        return int(active and _time.monotonic() > self.deadline)

    def disarm(self) -> None:
        """The job is over: never interrupt anything again."""
        self.armed = False


_installed: JobRunner | None = None


def install(runner: JobRunner) -> None:
    """Make `runner` the one `run_scheduled` uses in this process."""
    global _installed
    _installed = runner


def uninstall(runner: JobRunner) -> None:
    """Forget `runner` if it is the installed one (another may have taken its place)."""
    global _installed
    if _installed is runner:
        _installed = None


def run_scheduled(name: str) -> int:
    """APScheduler's entry point (stored by reference in the job store): run one job."""
    if _installed is None:
        raise RuntimeError("no JobRunner installed in this process; start `flask scheduler`")
    return _installed.run(name)
