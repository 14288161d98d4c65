"""`flask scheduler` killed (SIGKILL) or stopped (SIGTERM) in the middle of sending mail."""

from __future__ import annotations

import asyncio
import signal
import subprocess

import pytest
import sqlalchemy as sa

from requests_queue.models import JobOutcome, JobRun, OutboxMessage, OutboxState
from tests import child_processes
from tests.child_processes import (
    kill_when_held,
    queue_test_mail,
    stalling_sink,
    stop_with_sigterm,
    wait_until,
)
from tests.smtp_sink import SinkHandler, SmtpSink

# Tests that start processes run on one pytest-xdist worker, one at a time (make test --dist
# loadgroup): several at once on two cores would stretch their startups past the bounds below.
pytestmark = pytest.mark.xdist_group("processes")


def start_scheduler(app, sink, log) -> subprocess.Popen:
    """A real scheduler process on the test's database, mailing to `sink`."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return child_processes.start_scheduler(
        url, log, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port)
    )


def states(session) -> dict[OutboxState, int]:
    session.expire_all()
    # Only this test's messages: with every job ticking, the digest mails the manager too.
    rows = session.execute(
        sa.select(OutboxMessage.state, sa.func.count())
        .where(OutboxMessage.kind == "test")
        .group_by(OutboxMessage.state)
    ).all()
    session.rollback()
    return {state: n for state, n in rows}


def uncertain_ids(session) -> list[int]:
    session.expire_all()
    ids = session.scalars(
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.kind == "test",
            OutboxMessage.state == OutboxState.failed,
            OutboxMessage.handed_over_at.is_not(None),
        )
        .order_by(OutboxMessage.id)
    ).all()
    session.rollback()
    return list(ids)


@pytest.fixture
def holding_sink():
    """A sink that stalls on the third message until released."""
    with stalling_sink(hold_at=3) as sink:
        yield sink


def test_a_killed_scheduler_s_claims_are_recovered_at_once_by_the_next_one(
    app, session, client, manager, holding_sink, tmp_path
):
    queue_test_mail(session, 15)
    first = start_scheduler(app, holding_sink, tmp_path / "first.log")
    kill_when_held(first, holding_sink, "the scheduler")
    # The first group of ten was handed over (two of them arrived, one was in flight); the
    # other five were claimed but never handed over. The claim timeout is 15 minutes.
    assert states(session) == {OutboxState.sending: 15}

    second = start_scheduler(app, holding_sink, tmp_path / "second.log")
    try:
        wait_until(lambda: states(session).get(OutboxState.sent) == 5, 90, "the five resent")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    assert states(session) == {OutboxState.sent: 5, OutboxState.failed: 10}
    received = [m.rcpt_tos[0] for m in holding_sink.messages if m.rcpt_tos[0].startswith("p")]
    assert len(received) == len(set(received)) == 8  # three of the first group, the five
    # The killed run is not left "running" forever in the job history.
    interrupted = session.scalars(
        sa.select(JobRun.error).where(JobRun.job_name == "deliver_outbox",
                                      JobRun.outcome == JobOutcome.failed)
    ).all()  # fmt: skip
    assert interrupted and interrupted[0].startswith("Interrupted: the scheduler running it")
    assert not session.scalar(
        sa.select(sa.func.count()).where(JobRun.outcome == JobOutcome.running)
    )

    # The outbox page shows them apart, and "Retry all failed" leaves them alone.
    client.login(manager.email)
    page = client.get("/manager/outbox").get_data(as_text=True)
    assert "10 messages may have been delivered although they show as failed" in page
    assert "/manager/outbox/retry-failed" not in page  # nothing safe to retry in bulk
    response = client.post("/manager/outbox/retry-failed", follow_redirects=True)
    assert "10 message(s) whose delivery is uncertain were left alone" in response.get_data(
        as_text=True
    )
    assert len(uncertain_ids(session)) == 10

    # One by one, and only when the manager confirms having checked.
    one = uncertain_ids(session)[0]
    page = client.get(f"/manager/outbox/{one}").get_data(as_text=True)
    assert "This message may already have been delivered." in page
    refused = client.post(f"/manager/outbox/{one}/retry", follow_redirects=True)
    assert "may already have been delivered; check with the recipient" in refused.get_data(
        as_text=True
    )
    assert one in uncertain_ids(session)
    client.post(f"/manager/outbox/{one}/retry", {"despite_uncertain": "1"})
    assert one not in uncertain_ids(session)
    assert session.get(OutboxMessage, one).state is OutboxState.pending


class SlowHandler(SinkHandler):
    """An SMTP server that takes half a second to accept each message."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)


def test_sigterm_stops_the_scheduler_between_two_messages_within_ten_seconds(
    app, session, tmp_path
):
    queue_test_mail(session, 100)  # 50 s of sending at this server's pace
    with SmtpSink(SlowHandler()) as sink:
        proc = start_scheduler(app, sink, tmp_path / "scheduler.log")
        try:
            wait_until(lambda: len(sink.messages) >= 2, 60, "the first messages")
        finally:
            took = stop_with_sigterm(proc, 30)
        delivered = len(sink.messages)
    assert took < 10, f"SIGTERM took {took:.1f} s"
    # Nothing is left claimed or uncertain: what was sent is recorded, the rest waits.
    assert states(session) == {OutboxState.sent: delivered, OutboxState.pending: 100 - delivered}
    assert uncertain_ids(session) == []
