"""Specs for the import resumption job: stale batches are taken up once, the run recorded."""

from __future__ import annotations

from datetime import timedelta

from requests_queue.jobs.runner import JobRunner
from requests_queue.models import ImportBatch, ImportState, JobOutcome, JobRun
from requests_queue.now import now_utc


def test_a_stale_batch_is_resumed_once_and_the_run_counts_it(db, session, customer, tmp_path):
    batch = ImportBatch(
        account_id=customer.account_id,
        user_id=customer.id,
        filename="list.csv",
        permission_confirmed=False,
        created_at=now_utc() - timedelta(minutes=30),  # queued, and its worker never came
        state=ImportState.queued,
    )
    session.add(batch)
    session.commit()
    runner = JobRunner(db.engine)
    first = session.get(JobRun, runner.run("resume_stale_imports"))
    second = session.get(JobRun, runner.run("resume_stale_imports"))
    assert (first.outcome, first.counts) == (JobOutcome.ok, {"resumed": 1, "failed": 1})
    assert (second.outcome, second.counts) == (JobOutcome.ok, {"resumed": 0})
    session.refresh(batch)
    assert batch.state is ImportState.failed  # its file is gone: it says so instead of hanging
    assert "no longer there" in batch.error
