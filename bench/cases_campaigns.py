"""Issue 4's figures: queueing a double opt-in campaign, and the sender's rate to a local sink.

Issue 11 §1: the customer's pages and click through the web app at ten times that size
(1,000,000 addresses), the queueing started by the click waited for."""

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
from support import background
from tests.smtp_sink import SinkProcess

from .data import BENCH_PASSWORD, analyze, fill_account, make_user, settle
from .harness import (
    Bench,
    Result,
    fresh_database,
    median_time,
    session_for,
    timed,
    web_app,
)

FIELDS = (EmailField.email, EmailField.email2)
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
LINKS = RecipientLinks(secret="bench-secret", base_url="https://desk.example")
# Sending all 100,000 takes minutes; the rate is steady after a few thousand.
SEND_SAMPLE = 5_000
APP_SCALE = 10  # issue 11 §1's figures are at 1,000,000 addresses: ten times issue 4's
CAMPAIGN_FORM = "/campaigns/new?fields=email&fields=email2"


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


def _through_the_app(bench: Bench, backend: str, url: str, size: int) -> None:
    """The customer's campaign form (with its count), the click that records the campaign,
    and the campaign's page while its emails are prepared, through the web app; the run the
    click starts is waited for."""
    with fresh_database(backend, url) as engine:
        account = fill_account(
            engine, "App Co", size // 2, fields=2, status=EmailStatus.single_opt_in
        )
        make_user(engine, "app@bench.example", Role.customer, account)
        analyze(engine)
        settle(engine)  # as autovacuum leaves a database in use (see cases_contacts)
        app = web_app(engine, PUBLIC_BASE_URL="https://desk.example")
        client = app.test_client()
        client.post("/login", data={"email": "app@bench.example", "password": BENCH_PASSWORD})

        def form_page():
            response = client.get(CAMPAIGN_FORM)
            assert response.status_code == 200, response.status_code
            return response.get_data(as_text=True)

        page_s = median_time(form_page, repeat=3)
        assert f'name="expected_count" type="hidden" value="{size}"' in form_page()
        form = {"template": "provided", "expected_count": str(size), "send": "Send"}
        post_s, response = timed(lambda: client.post(CAMPAIGN_FORM, data=form))
        assert response.status_code == 302, response.status_code
        campaign_page = response.headers["Location"]

        def progress_page():
            response = client.get(campaign_page)
            assert response.status_code == 200, response.status_code

        campaign_s = median_time(progress_page, repeat=3)
        queue_s, _ = timed(lambda: background.wait("campaign", timeout=3600))
        with engine.connect() as conn:
            queued = conn.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        assert queued == size, (queued, size)
        for label, seconds, limit in (
            ("page: the campaign form with its count (the customer)", page_s, "< 0.3 s"),
            ("POST send the double opt-in campaign (the customer's click)", post_s, "< 0.5 s"),
            ("page: the campaign while its emails are prepared", campaign_s, "< 0.3 s"),
        ):
            bench.record(Result(label, backend, seconds, rows=size, limit=limit))
        print(f"    emails still being prepared after the pages: {queue_s:,.1f} s", flush=True)
        with app.app_context():
            from support.extensions import db

            db.engine.dispose()


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """Queue a `size`-address campaign, then send a sample of it to an aiosmtpd sink; the
    customer's pages and click through the app at APP_SCALE times the size."""
    _queue_and_send(bench, backend, url, size)
    _through_the_app(bench, backend, url, size * APP_SCALE)


def _queue_and_send(bench: Bench, backend: str, url: str, size: int) -> None:
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
                limit="< 10 s on SQLite at 100,000",  # its own peak memory: run_memory
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
