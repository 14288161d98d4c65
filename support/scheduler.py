"""`flask scheduler`: the process that runs the periodic jobs (see requests_queue/jobs/)."""

from __future__ import annotations

import faulthandler
import logging
import signal
import threading
from pathlib import Path

import click
from flask import current_app

from requests_queue.jobs.locks import lock_for
from requests_queue.jobs.runner import JobRunner
from requests_queue.jobs.schedule import SCHEDULE
from requests_queue.jobs.scheduler import SchedulerAlreadyRunning, SchedulerProcess
from requests_queue.models import JobOutcome, JobRun

from .extensions import db

log = logging.getLogger("consent_desk.scheduler")


@click.command("scheduler")
@click.option("--list", "list_jobs", is_flag=True, help="Print the schedule and exit.")
@click.option("--run", "run_now", metavar="JOB", help="Run one job now, record it, and exit.")
def scheduler_command(list_jobs: bool, run_now: str | None) -> None:
    """Run the periodic jobs until stopped; only one scheduler per database is active."""
    if list_jobs:
        for job in SCHEDULE:
            click.echo(f"{job.name:24} {job.cadence:28} {job.description}")
        return
    _configure_logging()
    runner = JobRunner(db.engine, settings=dict(current_app.config))
    if run_now:
        _run_once(runner, run_now)
        return
    config = current_app.config
    process = SchedulerProcess(
        runner,
        lock_for(db.engine, Path(current_app.instance_path)),
        poll_seconds=config["SCHEDULER_LOCK_POLL_SECONDS"],
        tick_seconds=config["SCHEDULER_TICK_SECONDS"],
        on_event=log.info,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # `kill -USR1 <pid>` writes every thread's stack to stderr: what a stuck job is waiting on.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        process.run(stop)
    except SchedulerAlreadyRunning as exc:
        raise click.ClickException(str(exc)) from None
    log.info("Scheduler stopped.")


def _run_once(runner: JobRunner, name: str) -> None:
    if name not in {job.name for job in SCHEDULE}:
        raise click.BadParameter(f"no job {name!r}; see `flask scheduler --list`")
    run = db.session.get(JobRun, runner.run(name))
    click.echo(f"{name}: {run.outcome.title} {run.counts or ''}".rstrip())
    if run.outcome is JobOutcome.failed:
        raise click.ClickException(run.error.splitlines()[0])


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s scheduler[%(process)d] %(levelname)s %(message)s"
    )
    # APScheduler logs every run at INFO; the JobRun table is the record, so only its problems.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
