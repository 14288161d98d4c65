"""The report-facts job is in the schedule and brings the dashboard figures up to date."""

import sqlalchemy as sa

from requests_queue.jobs.schedule import job_named
from requests_queue.models.reports import ReportFact


def test_report_facts_job_is_scheduled_every_five_minutes():
    job = job_named("report_facts")
    assert job.every.total_seconds() == 300
    assert job.func == "requests_queue.jobs.reports:refresh_reports"


def test_running_the_job_fills_the_facts_of_a_decided_request(db, session, customer, agent):
    from datetime import timedelta

    from requests_queue.jobs.runner import JobRunner
    from requests_queue.models.jobs import JobOutcome, JobRun

    from ..conftest import NOW, play_timeline

    request = play_timeline(
        session,
        customer,
        [
            (NOW - timedelta(days=3), "file", customer),
            (NOW - timedelta(days=2), "claim", agent),
            (NOW - timedelta(days=1), "approve", agent),
        ],
    )
    run_id = JobRunner(db.engine, clock=lambda: NOW).run("report_facts")
    run = session.get(JobRun, run_id)
    assert run.outcome is JobOutcome.ok, run.error
    fact = session.scalar(sa.select(ReportFact).where(ReportFact.request_id == request.id))
    assert fact is not None and fact.decided_at is not None
