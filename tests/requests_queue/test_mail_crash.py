"""A sender process killed (SIGKILL) in the middle of a batch: nothing is sent twice."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from requests_queue.mail import DEFAULT_POLICY, deliver_outbox
from requests_queue.models import OutboxMessage, OutboxState
from tests.child_processes import kill_when_held, queue_test_mail, stalling_sink
from tests.conftest import NOW

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


@pytest.fixture
def holding_sink():
    """A sink that stalls on the third message."""
    with stalling_sink(hold_at=3) as sink:
        yield sink


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
    queue_test_mail(session, 5)
    url = db.engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(holding_sink.port), NOW.isoformat(), str(group)],
        cwd=ROOT,
    )
    kill_when_held(child, holding_sink, "the sender")

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
