"""Specs for the job runner, the schedule table and job health (no scheduler process here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from requests_queue.jobs.health import JobHealth, health_of, job_statuses, recent_failures
from requests_queue.jobs.runner import JobContext, JobProblem, JobRunner, resolve
from requests_queue.jobs.schedule import SCHEDULE, PeriodicJob, job_named
from requests_queue.models import CalendarHoliday, HolidayChange, JobOutcome, JobRun

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HERE = "tests.requests_queue.test_jobs"


def job(name: str, func: str, timeout: float = 30, **kw) -> PeriodicJob:
    """A schedule row for tests."""
    return PeriodicJob(name, func, name, timedelta(seconds=timeout), **({"every": MINUTE} | kw))


# Job functions the test schedules point at (by "module:function", as the real table does).


def writes_then_fails(ctx: JobContext):
    """Writes a row, then breaks: the row must not survive."""
    ctx.session.add(CalendarHoliday(day=ctx.now.date(), change=HolidayChange.added, note="x"))
    ctx.session.flush()
    raise RuntimeError("the mail server said no")


def needs_a_person(ctx: JobContext):
    """Does its work, then reports a problem with counts."""
    raise JobProblem("SMTP server unreachable", {"sent": 2, "retrying": 5})


def sleeps_in_sql(ctx: JobContext):
    """A query that runs far longer than the job's timeout."""
    if ctx.session.get_bind().dialect.name == "postgresql":
        ctx.session.execute(sa.text("SELECT pg_sleep(30)"))
    else:
        ctx.session.execute(
            sa.text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                "SELECT count(*) FROM n"
            )
        )


TEST_SCHEDULE = (
    job("prune", "requests_queue.jobs.housekeeping:prune_job_runs"),
    job("fails", f"{HERE}:writes_then_fails"),
    job("problem", f"{HERE}:needs_a_person"),
    job("slow", f"{HERE}:sleeps_in_sql", timeout=0.3),
)


@pytest.fixture
def runner(db) -> JobRunner:
    """A runner over the test database with a frozen clock."""
    return JobRunner(db.engine, schedule=TEST_SCHEDULE, clock=lambda: NOW)


def test_every_scheduled_job_points_at_a_function_that_exists():
    names = [j.name for j in SCHEDULE]
    assert len(names) == len(set(names))
    for row in SCHEDULE:
        assert callable(resolve(row.func)), row.func
        assert row.timeout > timedelta(0), row.name


def test_a_row_needs_exactly_one_cadence():
    with pytest.raises(ValueError, match="exactly one"):
        PeriodicJob("x", "m:f", "x", MINUTE)
    with pytest.raises(ValueError, match="exactly one"):
        PeriodicJob("x", "m:f", "x", MINUTE, every=MINUTE, daily_at=NOW.time())


def test_a_successful_run_is_recorded_with_its_counts(runner, session):
    session.add_all(
        [JobRun(job_name="old", started_at=NOW - timedelta(days=d)) for d in (31, 45, 29)]
    )
    session.commit()
    run = session.get(JobRun, runner.run("prune"))
    assert (run.outcome, run.counts, run.error) == (JobOutcome.ok, {"deleted": 2}, "")
    assert run.started_at == NOW and run.finished_at == NOW
    assert run.runner == runner.runner


def test_pruning_twice_deletes_nothing_the_second_time(runner, session):
    session.add(JobRun(job_name="old", started_at=NOW - timedelta(days=40)))
    session.commit()
    first, second = runner.run("prune"), runner.run("prune")
    assert session.get(JobRun, first).counts == {"deleted": 1}
    assert session.get(JobRun, second).counts == {"deleted": 0}


def test_a_failed_run_is_recorded_with_its_error_and_its_work_undone(runner, session):
    run = session.get(JobRun, runner.run("fails"))
    assert run.outcome is JobOutcome.failed
    assert run.error.startswith("RuntimeError: the mail server said no")
    assert "Traceback" in run.error
    assert session.scalar(sa.select(sa.func.count()).select_from(CalendarHoliday)) == 0


def test_a_reported_problem_fails_the_run_but_keeps_its_counts(runner, session):
    run = session.get(JobRun, runner.run("problem"))
    assert (run.outcome, run.error) == (JobOutcome.failed, "SMTP server unreachable")
    assert run.counts == {"sent": 2, "retrying": 5}


def test_sql_running_past_the_timeout_is_stopped_and_recorded(runner, session):
    run = session.get(JobRun, runner.run("slow"))
    assert run.outcome is JobOutcome.failed
    assert "statement timeout" in run.error or "interrupted" in run.error


def test_the_timeout_does_not_outlive_its_job(runner, session):
    runner.run("slow")
    # The same pooled connection serves the next job; nothing of the old deadline remains.
    assert session.get(JobRun, runner.run("prune")).outcome is JobOutcome.ok


def test_unknown_job_names_are_refused(runner):
    with pytest.raises(KeyError):
        runner.run("no_such_job")


H = JobHealth
PRUNE = TEST_SCHEDULE[0]  # every minute, 30 s timeout


@pytest.mark.parametrize(
    ("outcome", "started_ago", "health"),
    [
        (None, None, H.never_run),
        (JobOutcome.ok, timedelta(seconds=30), H.ok),
        (JobOutcome.ok, timedelta(minutes=6), H.ok),
        (JobOutcome.ok, timedelta(minutes=8), H.overdue),
        (JobOutcome.failed, timedelta(seconds=30), H.failing),
        (JobOutcome.running, timedelta(seconds=20), H.running),
        (JobOutcome.running, timedelta(minutes=5), H.interrupted),
    ],
)
def test_job_health_is_derived_from_the_latest_run(outcome, started_ago, health):
    last = None if outcome is None else JobRun(outcome=outcome, started_at=NOW - started_ago)
    assert health_of(PRUNE, last, NOW) is health
    assert health.is_problem is (health not in (H.ok, H.running))


def test_statuses_show_latest_run_last_success_and_recent_failures(session):
    session.add_all(  # in the order a runner inserts them
        [
            JobRun(job_name="prune", started_at=NOW - timedelta(days=2),
                   outcome=JobOutcome.failed, error="old"),
            JobRun(job_name="prune", started_at=NOW - 3 * MINUTE, outcome=JobOutcome.ok,
                   finished_at=NOW - 3 * MINUTE),
            JobRun(job_name="prune", started_at=NOW - 2 * MINUTE, outcome=JobOutcome.failed,
                   finished_at=NOW - 2 * MINUTE, error="boom"),
        ]
    )  # fmt: skip
    session.commit()
    statuses = {s.job.name: s for s in job_statuses(session, NOW, TEST_SCHEDULE)}
    prune = statuses["prune"]
    assert (prune.health, prune.last.error, prune.failures_recent) == (H.failing, "boom", 1)
    assert prune.last_ok_at == NOW - 3 * MINUTE
    assert statuses["fails"].health is H.never_run
    assert [r.error for r in recent_failures(session, NOW)] == ["boom"]


def test_a_daily_job_is_waiting_not_missing_until_its_first_time_of_day_has_come():
    digest = job_named("daily_digest")
    started = NOW - timedelta(hours=3)  # a scheduler came up three hours ago
    assert health_of(digest, None, NOW, scheduler_since=started) is H.waiting
    assert not H.waiting.is_problem
    # A whole day later it should have run: that needs a look.
    later = NOW + timedelta(days=1)
    assert health_of(digest, None, later, scheduler_since=started) is H.never_run
    # Interval jobs run as soon as a scheduler starts: never having run is a problem.
    assert health_of(PRUNE, None, NOW, scheduler_since=started) is H.never_run
