"""Issue 13's figure: provider feedback events per second, accepted and applied.

An account of `size` addresses receives `size` events through the real endpoint (the WSGI
app, signatures checked): SendGrid deliveries of 1,000 events each, as its event webhook
batches them, a mix of hard bounces, soft bounces, complaints, unsubscribes, events not acted
on and unknown addresses. Each delivery is stored in one insert and applied set-based before
the answer. Then single-event deliveries (Mailgun's shape: one event a POST) for comparison.
"""

from __future__ import annotations

import sqlalchemy as sa

from requests_queue.feedback.feeds import FeedSettings, create_feed
from requests_queue.feedback.sealing import Sealer
from requests_queue.models.feedback import FeedbackEvent, FeedProvider
from requests_queue.now import now_utc
from tests import feedback_samples as samples

from .data import fill_account
from .harness import Bench, Result, fresh_database, session_for, timed, web_app

LIMIT = ">= 2,000 events/s"
BATCH = 1000
SINGLE = 2000
MIX = ["bounce"] * 4 + ["deferred"] * 2 + ["spamreport", "unsubscribe", "open", "bounce:unknown"]
KEY = "key-bench-3ax6xnjp29jd6fds4gc373sg"


def _events(contacts: int, count: int, offset: int = 0) -> list[tuple[str, str]]:
    out = []
    for i in range(offset, offset + count):
        event = MIX[i % len(MIX)]
        n = 1 + (i * 7919) % contacts
        if event == "bounce:unknown":
            out.append(("bounce", f"nobody{i}@benchco.example"))
        else:
            out.append((event, f"C{n}.{1 + i % 2}@BenchCo.example"))
    return out


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """Fill an account of `size` addresses, then post `size` events to its SendGrid feed."""
    with fresh_database(backend, url) as engine:
        contacts = max(1, size // 2)
        account_id = fill_account(engine, "Bench Co", contacts, fields=2)
        app = web_app(engine, WTF_CSRF_ENABLED=True)
        keys = samples.SendGridKeys()
        with session_for(engine) as s:
            sendgrid = create_feed(
                s,
                account_id,
                FeedProvider.sendgrid,
                FeedSettings(name="SendGrid", secret=keys.public),
                Sealer(["bench"]),
                now_utc(),
            )
            mailgun = create_feed(
                s,
                account_id,
                FeedProvider.mailgun,
                FeedSettings(name="Mailgun", secret=KEY),
                Sealer(["bench"]),
                now_utc(),
            )
            s.commit()
            sendgrid_url, mailgun_url = (
                f"/feedback/{sendgrid.public_id}",
                f"/feedback/{mailgun.public_id}",
            )
        client = app.test_client()
        bodies = [
            samples.sendgrid_events(*_events(contacts, min(BATCH, size - start), start))
            for start in range(0, size, BATCH)
        ]
        signed = [(body, keys.headers(body)) for body in bodies]

        def post_all():
            for body, headers in signed:
                response = client.post(sendgrid_url, data=body, headers=headers)
                assert response.status_code == 200, response.get_data(as_text=True)

        seconds, _ = timed(post_all)
        with session_for(engine) as s:
            stored = s.scalar(sa.select(sa.func.count()).select_from(FeedbackEvent))
            pending = s.scalar(sa.select(sa.func.count()).where(FeedbackEvent.outcome == "pending"))
        assert pending == 0, pending
        bench.record(
            Result(
                f"feedback: {size:,} events in SendGrid deliveries of {BATCH:,}, events/s",
                backend,
                seconds,
                rows=size,
                limit=LIMIT,
                extra={"events_per_second": round(size / seconds), "stored": stored},
            )
        )
        print(f"    → {size / seconds:,.0f} events/s ({LIMIT})", flush=True)

        single = min(SINGLE, size)
        mailgun_bodies = [
            samples.mailgun_body("failed" if e == "bounce" else "complained", a, KEY)
            for e, a in _events(contacts, single, size)
        ]

        def post_singles():
            for body in mailgun_bodies:
                response = client.post(mailgun_url, data=body)
                assert response.status_code == 200, response.get_data(as_text=True)

        seconds, _ = timed(post_singles)
        bench.record(
            Result(
                f"feedback: {single:,} single-event Mailgun deliveries, events/s",
                backend,
                seconds,
                rows=single,
                extra={"events_per_second": round(single / seconds)},
            )
        )
        print(f"    → {single / seconds:,.0f} events/s, one event a request", flush=True)
        with app.app_context():
            from support.extensions import db

            db.engine.dispose()
