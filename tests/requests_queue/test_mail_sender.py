"""The outbox sender against a real SMTP server on loopback: delivery, retries, refusals."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.mail import (
    DEFAULT_POLICY,
    RetryPolicy,
    SmtpTransport,
    claim_batch,
    deliver_outbox,
    send_claimed,
)
from requests_queue.models import OutboxMessage, OutboxState
from requests_queue.outbox import queue_email
from tests.conftest import NOW

MINUTE = timedelta(minutes=1)


def _queue(session, to="ada@example.test", subject="Your request #1 was filed", **kw):
    message = queue_email(
        session,
        to=to,
        subject=subject,
        text=kw.pop("text", "Hello Ada."),
        now=NOW,
        kind="request_filed",
        **kw,
    )
    session.commit()
    return message


def _state(session, message) -> OutboxMessage:
    session.expire_all()
    return session.get(OutboxMessage, message.id)


class CountingTransport(SmtpTransport):
    """The real transport, counting the connections it opens."""

    connections = 0

    def connect(self):
        self.connections += 1
        return super().connect()


def test_delivers_a_queued_message_over_smtp(session, smtp_sink):
    message = _queue(session)
    report = deliver_outbox(session, smtp_sink.transport(), NOW)
    assert report.sent == 1
    [mail] = smtp_sink.messages
    assert mail.rcpt_tos == ["ada@example.test"]
    assert mail.subject == "Your request #1 was filed"
    assert mail.text.strip() == "Hello Ada."
    assert mail.header("From") == "Consent Desk <support@consent-desk.test>"
    assert mail.header("Message-ID").startswith(f"<outbox.{message.id}.")
    row = _state(session, message)
    assert (row.state, row.attempts, row.sent_at, row.last_error) == (OutboxState.sent, 1, NOW, "")
    assert row.claimed_by is None and row.handed_over_at is None


def test_keeps_messages_pending_and_visible_without_smtp_settings(session):
    message = _queue(session)
    report = deliver_outbox(session, None, NOW)
    assert report.sent == report.failed == 0
    row = _state(session, message)
    assert (row.state, row.attempts) == (OutboxState.pending, 0)


def test_adds_the_rows_headers_but_never_replaces_the_senders_own(session, smtp_sink):
    _queue(
        session,
        headers={
            "List-Unsubscribe": "<https://example.test/u/1>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "From": "spoof@evil.test",
        },
    )
    deliver_outbox(session, smtp_sink.transport(), NOW)
    [mail] = smtp_sink.messages
    assert mail.header("List-Unsubscribe") == "<https://example.test/u/1>"
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert mail.header("From") == "Consent Desk <support@consent-desk.test>"


def test_sends_the_html_alternative_when_there_is_one(session, smtp_sink):
    _queue(session, html="<p>Hello <b>Ada</b>.</p>")
    deliver_outbox(session, smtp_sink.transport(), NOW)
    [mail] = smtp_sink.messages
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert "<b>Ada</b>" in html and mail.text.strip() == "Hello Ada."


def test_folds_a_line_break_in_the_subject_so_it_cannot_inject_headers(session, smtp_sink):
    _queue(session, subject="Filed\r\nBcc: everyone@example.test")
    deliver_outbox(session, smtp_sink.transport(), NOW)
    [mail] = smtp_sink.messages
    assert mail.subject == "Filed Bcc: everyone@example.test"
    assert mail.rcpt_tos == ["ada@example.test"]


def test_reuses_one_connection_for_a_whole_batch(session, smtp_sink):
    for n in range(5):
        _queue(session, to=f"p{n}@example.test")
    transport = CountingTransport(smtp_sink.settings())
    deliver_outbox(session, transport, NOW, batch_size=10)
    assert len(smtp_sink.messages) == 5
    assert transport.connections == 1


def test_sends_oldest_first_in_as_many_batches_as_needed(session, smtp_sink):
    for n in range(7):
        _queue(session, to=f"p{n}@example.test")
    report = deliver_outbox(session, smtp_sink.transport(), NOW, batch_size=3)
    assert report.sent == 7
    assert [m.rcpt_tos[0] for m in smtp_sink.messages] == [f"p{n}@example.test" for n in range(7)]


def test_sends_nothing_twice_when_run_twice(session, smtp_sink):
    for n in range(4):
        _queue(session, to=f"p{n}@example.test")
    deliver_outbox(session, smtp_sink.transport(), NOW)
    second = deliver_outbox(session, smtp_sink.transport(), NOW + MINUTE)
    assert second.sent == 0
    assert len(smtp_sink.messages) == 4


def test_leaves_messages_that_are_not_due_yet(session, smtp_sink):
    message = _queue(session)
    session.execute(sa.update(OutboxMessage).values(next_attempt_at=NOW + MINUTE))
    session.commit()
    deliver_outbox(session, smtp_sink.transport(), NOW)
    assert smtp_sink.messages == []
    assert _state(session, message).state is OutboxState.pending


def test_retries_a_temporary_refusal_after_a_backoff(session, smtp_sink):
    message = _queue(session)
    smtp_sink.answer("ada@example.test", "451 4.3.0 Mailbox busy, try later")
    report = deliver_outbox(session, smtp_sink.transport(), NOW)
    assert report.retrying == 1 and smtp_sink.messages == []
    row = _state(session, message)
    assert (row.state, row.attempts) == (OutboxState.pending, 1)
    assert row.next_attempt_at == NOW + DEFAULT_POLICY.base
    assert "451" in row.last_error and "try later" in row.last_error
    # Not due before the backoff has passed.
    deliver_outbox(session, smtp_sink.transport(), NOW + DEFAULT_POLICY.base - timedelta(seconds=1))
    assert smtp_sink.messages == []
    deliver_outbox(session, smtp_sink.transport(), NOW + DEFAULT_POLICY.base)
    assert len(smtp_sink.messages) == 1
    row = _state(session, message)
    assert (row.state, row.attempts, row.last_error) == (OutboxState.sent, 2, "")


@pytest.mark.parametrize(
    ("failed_tries", "wait"),
    [
        (1, timedelta(minutes=1)),
        (2, timedelta(minutes=2)),
        (3, timedelta(minutes=4)),
        (5, timedelta(minutes=16)),
        (7, timedelta(minutes=64)),
        (8, timedelta(hours=2)),  # capped
        (9, timedelta(hours=2)),
    ],
)
def test_backoff_doubles_until_its_cap(failed_tries, wait):
    assert DEFAULT_POLICY.delay(failed_tries) == wait


def test_fails_a_message_the_server_refuses_permanently_and_sends_the_rest(session, smtp_sink):
    refused = _queue(session, to="gone@example.test")
    kept = _queue(session, to="ada@example.test")
    smtp_sink.answer("gone@example.test", "550 5.1.1 No such user here")
    report = deliver_outbox(session, smtp_sink.transport(), NOW)
    assert (report.sent, report.failed) == (1, 1)
    row = _state(session, refused)
    assert (row.state, row.attempts) == (OutboxState.failed, 1)
    assert "550" in row.last_error and "No such user" in row.last_error
    assert _state(session, kept).state is OutboxState.sent
    assert [m.rcpt_tos for m in smtp_sink.messages] == [["ada@example.test"]]


def test_gives_up_after_the_last_try_and_says_why(session, smtp_sink):
    policy = RetryPolicy(max_attempts=3)
    message = _queue(session)
    smtp_sink.answer("ada@example.test", *["451 4.3.0 Try later"] * 3)
    at = NOW
    for _ in range(3):
        deliver_outbox(session, smtp_sink.transport(), at, policy=policy)
        at += policy.cap
    row = _state(session, message)
    assert (row.state, row.attempts) == (OutboxState.failed, 3)
    assert row.last_error.startswith("gave up after 3 tries") and "451" in row.last_error
    assert smtp_sink.messages == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_server_counts_a_try_and_stops_the_run(session, smtp_sink):
    messages = [_queue(session, to=f"p{n}@example.test") for n in range(3)]
    transport = SmtpTransport(smtp_sink.settings(port=_closed_port(), timeout=2))
    report = deliver_outbox(session, transport, NOW, batch_size=2)
    assert "could not connect" in report.connect_error
    rows = [_state(session, m) for m in messages]
    # The first batch counted a try; the run stopped before claiming the third message.
    assert [(r.state, r.attempts) for r in rows] == [
        (OutboxState.pending, 1),
        (OutboxState.pending, 1),
        (OutboxState.pending, 0),
    ]
    assert rows[0].next_attempt_at == NOW + MINUTE
    assert "could not connect" in rows[0].last_error


def test_a_lost_claim_sends_nothing_more(session, smtp_sink):
    """A sender that stalled past the claim timeout finds its messages sent by another."""
    for n in range(3):
        _queue(session, to=f"p{n}@example.test")
    slow = "a" * 32
    ids = claim_batch(session, slow, NOW, 10)
    session.commit()
    later = NOW + DEFAULT_POLICY.claim_timeout + MINUTE
    assert deliver_outbox(session, smtp_sink.transport(), later).released == 3
    assert len(smtp_sink.messages) == 3
    report = send_claimed(session, smtp_sink.transport(), slow, ids, later)
    assert report.sent == 0
    assert len(smtp_sink.messages) == 3


class Interrupting(SmtpTransport):
    """Stops the process (as Ctrl-C would) while handing over the second message."""

    sent = 0

    def send(self, conn, message, to):
        if self.sent == 1:
            raise KeyboardInterrupt
        self.sent += 1
        super().send(conn, message, to)


def test_an_interrupted_run_keeps_what_it_knows_and_puts_the_rest_back(session, smtp_sink):
    first, second, third = (_queue(session, to=f"p{n}@example.test") for n in range(3))
    with pytest.raises(KeyboardInterrupt):
        deliver_outbox(session, Interrupting(smtp_sink.settings()), NOW)
    session.rollback()
    assert _state(session, first).state is OutboxState.sent
    in_flight = _state(session, second)
    assert in_flight.state is OutboxState.sending and in_flight.handed_over_at == NOW
    assert _state(session, third).state is OutboxState.pending
    # After the claim timeout the one in flight is reported, never re-sent blindly.
    later = NOW + DEFAULT_POLICY.claim_timeout + MINUTE
    report = deliver_outbox(session, smtp_sink.transport(), later)
    assert (report.uncertain, report.sent) == (1, 1)
    assert _state(session, second).state is OutboxState.failed
    assert [m.rcpt_tos[0] for m in smtp_sink.messages] == ["p0@example.test", "p2@example.test"]


def _stale_claim(session, message, handed_over: bool) -> None:
    session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(
            state=OutboxState.sending,
            claimed_by="dead" * 8,
            claimed_at=NOW - DEFAULT_POLICY.claim_timeout - MINUTE,
            handed_over_at=NOW - DEFAULT_POLICY.claim_timeout if handed_over else None,
        )
    )
    session.commit()


def test_recovers_a_crashed_senders_claim_without_sending_anything_twice(session, smtp_sink):
    never_sent = _queue(session, to="waiting@example.test")
    maybe_sent = _queue(session, to="inflight@example.test")
    _stale_claim(session, never_sent, handed_over=False)
    _stale_claim(session, maybe_sent, handed_over=True)
    report = deliver_outbox(session, smtp_sink.transport(), NOW)
    assert (report.released, report.uncertain, report.sent) == (1, 1, 1)
    assert [m.rcpt_tos for m in smtp_sink.messages] == [["waiting@example.test"]]
    row = _state(session, maybe_sent)
    assert row.state is OutboxState.failed
    assert row.last_error.startswith("Delivery uncertain")


def test_leaves_a_live_senders_fresh_claim_alone(session, smtp_sink):
    message = _queue(session)
    session.execute(
        sa.update(OutboxMessage).values(
            state=OutboxState.sending, claimed_by="b" * 32, claimed_at=NOW - MINUTE
        )
    )
    session.commit()
    report = deliver_outbox(session, smtp_sink.transport(), NOW)
    assert (report.released, report.uncertain, report.sent) == (0, 0, 0)
    assert _state(session, message).state is OutboxState.sending


def test_a_header_that_cannot_be_written_fails_the_message_for_good(session, smtp_sink):
    message = _queue(session, headers={"X-Note": "one\r\nBcc: x@example.test"})
    report = deliver_outbox(session, smtp_sink.transport(), NOW)
    assert report.failed == 1 and smtp_sink.messages == []
    row = _state(session, message)
    assert row.state is OutboxState.failed
    assert row.last_error.startswith("could not build the message")


def test_concurrent_senders_never_send_a_message_twice(db, smtp_sink):
    session = db.session
    for n in range(60):
        _queue(session, to=f"p{n}@example.test")
    session.remove()
    engine = db.engine
    errors = []

    def run():
        try:
            with Session(engine) as own:
                deliver_outbox(own, smtp_sink.transport(), NOW, batch_size=5)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    delivered = [m.rcpt_tos[0] for m in smtp_sink.messages]
    assert sorted(delivered) == sorted(f"p{n}@example.test" for n in range(60))


def test_writes_non_ascii_subject_sender_and_text_readably(session, smtp_sink):
    _queue(session, subject="Bitte bestätigen — Ærøskøbing", text="Grüße aus Köln.\n")
    transport = SmtpTransport(smtp_sink.settings(mail_from="Conséil Desk <desk@example.test>"))
    deliver_outbox(session, transport, NOW)
    [mail] = smtp_sink.messages
    assert mail.subject == "Bitte bestätigen — Ærøskøbing"
    assert mail.text == "Grüße aus Köln.\n"
    assert mail.message["From"].addresses[0].display_name == "Conséil Desk"
    assert mail.mail_from == "desk@example.test"
