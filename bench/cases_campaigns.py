"""Issue 4's figures: queueing a double opt-in campaign, and the sender's rate to a local sink."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from requests_queue.campaigns import (
    RecipientLinks,
    create_campaign,
    provided_content,
    run_campaign_queueing,
)
from requests_queue.mail import deliver_outbox
from requests_queue.models import EmailField, OutboxMessage, OutboxState, Role
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from tests.smtp_sink import SinkProcess

from .data import fill_account, make_user
from .harness import Bench, Result, fresh_database, peak_rss_mb, session_for, timed

FIELDS = (EmailField.email, EmailField.email2)
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
LINKS = RecipientLinks(secret="bench-secret", base_url="https://desk.example")
# Sending all 100,000 takes minutes; the rate is steady after a few thousand.
SEND_SAMPLE = 5_000


def _click(engine: sa.Engine, account_id: int, user_id: int) -> int:
    """What the customer's request does: check the count and record the campaign."""
    with session_for(engine) as s:
        campaign = create_campaign(
            s,
            ContactFilter(account_id=account_id),
            FIELDS,
            provided_content(),
            Actor(ActorKind.customer, user_id),
            NOW,
        )
        s.commit()
        return campaign.id


def _queue(engine: sa.Engine, campaign_id: int) -> int:
    """The background run: every recipient's links signed, its message written, in chunks."""
    run_campaign_queueing(engine, campaign_id, LINKS, clock=lambda: NOW)
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))


def _send(engine: sa.Engine, sink: SinkProcess) -> int:
    with session_for(engine) as s:
        report = deliver_outbox(s, sink.transport(), NOW, batch_size=200)
        return report.sent


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """Queue a `size`-address campaign, then send a sample of it to an aiosmtpd sink."""
    with fresh_database(backend, url) as engine:
        account = fill_account(
            engine, "Campaign Co", size // 2, fields=2, status=EmailStatus.single_opt_in
        )
        user = make_user(engine, "bench@bench.example", Role.customer, account)
        seconds, campaign_id = timed(lambda: _click(engine, account, user))
        bench.record(
            Result(
                "double opt-in campaign: the customer's click (count, record)",
                backend,
                seconds,
                rows=size // 2 * 2,
            )
        )
        seconds, queued = timed(lambda: _queue(engine, campaign_id))
        assert queued == size // 2 * 2, queued
        bench.record(
            Result(
                "double opt-in campaign: queue in the background (links signed, outbox rows)",
                backend,
                seconds,
                rows=queued,
                peak_rss_mb=peak_rss_mb(),
                limit="< 10 s on SQLite at 100,000",
            )
        )
        # Only a sample is due, so the run ends when the sample is sent.
        sample = min(SEND_SAMPLE, queued)
        with engine.begin() as conn:
            last = conn.execute(
                sa.select(OutboxMessage.id).order_by(OutboxMessage.id).offset(sample - 1).limit(1)
            ).scalar_one()
            conn.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id > last, OutboxMessage.state == OutboxState.pending)
                .values(next_attempt_at=datetime(2100, 1, 1, tzinfo=UTC))
            )
        # The sink runs in its own process, as a real SMTP server would.
        with SinkProcess() as sink:
            seconds, sent = timed(lambda: _send(engine, sink))
            assert sent == sample == sink.received, (sent, sample, sink.received)
        bench.record(
            Result(
                "double opt-in campaign: sender to local SMTP sink",
                backend,
                seconds,
                rows=sent,
                limit=">= 200 msg/s",
                extra={"messages_per_second": round(sent / seconds, 1)},
            )
        )
        print(f"    sender rate: {sent / seconds:,.0f} messages/s", flush=True)
