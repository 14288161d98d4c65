"""A sender process killed (SIGKILL) in the middle of a batch: nothing is sent twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from requests_queue.mail import DEFAULT_POLICY, deliver_outbox
from requests_queue.models import OutboxMessage, OutboxState
from requests_queue.outbox import queue_email
from tests.conftest import NOW
from tests.smtp_sink import SinkHandler, SmtpSink

ROOT = Path(__file__).resolve().parents[2]
# Tests that start processes run on one pytest-xdist worker, one at a time (make test --dist
# loadgroup): several at once on two cores would stretch their startups past the bounds below.
pytestmark = pytest.mark.xdist_group("processes")
# The child is a separate Python process: the kill is real, no state survives but the database.
CHILD = """
import sys
from datetime import datetime
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from requests_queue.mail import SmtpSettings, SmtpTransport, deliver_outbox
url, port, now = sys.argv[1], int(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port))
deliver_outbox(Session(create_engine(url)), transport, now, batch_size=10, group=int(sys.argv[4]))
"""


class HoldingHandler(SinkHandler):
    """Keeps the `hold_at`-th message without answering until released, like a stalled server."""

    def __init__(self, hold_at: int):
        super().__init__()
        self.hold_at = hold_at
        self.holding = threading.Event()
        self.released = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.received) == self.hold_at:
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
        return reply


@pytest.fixture
def holding_sink():
    """A sink that stalls on the third message."""
    handler = HoldingHandler(hold_at=3)
    with SmtpSink(handler) as sink:
        yield sink
        handler.released.set()


SENT, RELEASED = (OutboxState.sent, False), (OutboxState.sending, False)
HANDED_OVER = (OutboxState.sending, True)


@pytest.mark.parametrize(
    ("group", "after_kill", "delivered_in_the_end"),
    [
        # One commit per message: exactly the message in flight is uncertain.
        (1, [SENT, SENT, HANDED_OVER, RELEASED, RELEASED], [0, 1, 2, 3, 4]),
        # Two per commit: the 3rd (in flight, arrived) and 4th (never sent) are uncertain,
        # and neither is sent again; a manager decides.
        (2, [SENT, SENT, HANDED_OVER, HANDED_OVER, RELEASED], [0, 1, 2, 4]),
    ],
)
def test_a_killed_sender_leaves_no_message_to_be_sent_twice(
    db, holding_sink, group, after_kill, delivered_in_the_end
):
    session = db.session
    for n in range(5):
        queue_email(
            session,
            to=f"p{n}@example.test",
            subject=f"Message {n}",
            text="Hi.",
            now=NOW,
            kind="test",
        )
    session.commit()
    url = db.engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(holding_sink.port), NOW.isoformat(), str(group)],
        cwd=ROOT,
    )
    try:
        assert holding_sink.handler.holding.wait(60), "the sender never reached the 3rd message"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    holding_sink.handler.released.set()

    session.expire_all()
    rows = session.execute(
        sa.select(OutboxMessage.state, OutboxMessage.handed_over_at.is_not(None)).order_by(
            OutboxMessage.id
        )
    ).all()
    assert [tuple(r) for r in rows] == after_kill

    later = NOW + DEFAULT_POLICY.claim_timeout + timedelta(minutes=1)
    report = deliver_outbox(session, holding_sink.transport(), later)
    assert report.uncertain == after_kill.count(HANDED_OVER)
    assert report.released == report.sent == after_kill.count(RELEASED)
    delivered = [m.rcpt_tos[0] for m in holding_sink.messages]
    assert delivered == [f"p{n}@example.test" for n in delivered_in_the_end]  # none twice
    session.expire_all()
    errors = session.scalars(
        sa.select(OutboxMessage.last_error).where(OutboxMessage.state == OutboxState.failed)
    ).all()
    assert len(errors) == after_kill.count(HANDED_OVER)
    assert all(e.startswith("Delivery uncertain") for e in errors)
