"""Specs for the outbox delivery job: a real SMTP server on loopback, runs recorded."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from requests_queue.jobs.runner import JobRunner
from requests_queue.models import JobOutcome, JobRun, OutboxMessage, OutboxState
from requests_queue.outbox import queue_email

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def queued(session):
    """One message due now."""
    message = queue_email(
        session, to="ada@acme.example", subject="Hello", text="Hi", now=NOW, kind="test"
    )
    session.commit()
    return message.id


def run(db, settings: dict) -> JobRun:
    """Run the delivery job once, as the scheduler would, and return its record."""
    run_id = JobRunner(db.engine, settings=settings).run("deliver_outbox")
    db.session.expire_all()
    return db.session.get(JobRun, run_id)


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_delivers_due_mail_once_however_often_it_runs(db, queued, smtp_sink):
    first, second = run(db, smtp_sink.config()), run(db, smtp_sink.config())
    assert [m.subject for m in smtp_sink.to("ada@acme.example")] == ["Hello"]
    assert (first.outcome, first.counts["sent"]) == (JobOutcome.ok, 1)
    assert (second.outcome, second.counts["sent"]) == (JobOutcome.ok, 0)
    assert db.session.get(OutboxMessage, queued).state is OutboxState.sent


def test_an_unreachable_server_fails_the_run_visibly_and_keeps_the_mail(db, queued):
    record = run(db, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port()})
    assert record.outcome is JobOutcome.failed
    assert record.error.startswith("SMTP server unreachable")
    assert record.counts["retrying"] == 1
    assert db.session.get(OutboxMessage, queued).state is OutboxState.pending


def test_without_an_smtp_host_mail_waits_and_the_run_says_why(db, queued):
    record = run(db, {"SMTP_HOST": ""})
    assert (record.outcome, record.counts["smtp_not_configured"]) == (JobOutcome.ok, 1)
    assert db.session.get(OutboxMessage, queued).state is OutboxState.pending
