"""Provider feedback in the domain: a burst of mixed events keeps DOMAIN.md's invariants and
ends where the rule book says; soft-bounce windows; the replay command."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from requests_queue.feedback.processing import EFFECTS
from requests_queue.feedback.receiving import ingest
from requests_queue.feedback.reported import Reported
from requests_queue.models import EmailAddress, StatusEvent
from requests_queue.models.feedback import FeedbackEvent, FeedbackKind
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus, allowed_sources
from tests import feedback_samples as samples
from tests.conftest import NOW, actor_of
from tests.requests_queue.rulebook_invariants import check_all, check_append_only

K, S = FeedbackKind, EmailStatus


def _feed(session, user, provider="standard", **settings):
    settings.setdefault("name", "Feed")
    if provider in ("standard", "mailgun"):
        settings.setdefault("secret", samples.StandardSigner().secret)
    return samples.add_feed(session, user, provider, NOW, **settings)


def _statuses(session, account_id) -> dict[str, EmailStatus]:
    session.expire_all()
    rows = session.execute(
        sa.select(EmailAddress.address, EmailAddress.status).where(
            EmailAddress.account_id == account_id
        )
    )
    return dict(rows.all())


def test_a_burst_of_mixed_events_keeps_the_rule_book(
    session, customer, other_customer, make_contact
):
    rng = random.Random(13)
    addresses = [f"r{i}@acme.example" for i in range(60)]
    for i, address in enumerate(addresses):
        make_contact(customer, first_name=f"r{i}", consent=i % 3 != 0, email=address)
    make_contact(other_customer, consent=True, email="r1@acme.example")  # same mailbox, B
    rows = {a.address: a for a in session.scalars(sa.select(EmailAddress))}
    # Some start opted out by the customer, some by the recipient, some invalid.
    for i, address in enumerate(addresses[:15]):
        row = rows[address] if rows[address].account_id == customer.account_id else None
        if row is None:
            continue
        if i % 3 == 0:
            change_status(session, row, S.opted_out_by_user, actor_of(customer), NOW)
        elif i % 3 == 1:
            change_status(session, row, S.opted_out_by_recipient, Actor(ActorKind.recipient), NOW)
        else:
            change_status(session, row, S.invalid, Actor(ActorKind.system), NOW)
    session.commit()
    feed = _feed(session, customer)
    before_b = _statuses(session, other_customer.account_id)
    expected = _statuses(session, customer.account_id)
    snapshot = check_all(session)
    kinds = [K.hard_bounce, K.soft_bounce, K.complaint, K.unsubscribe, K.other]
    sent: list[Reported] = []
    for batch in range(8):
        events = []
        for n in range(rng.randint(20, 80)):
            if sent and rng.random() < 0.1:
                events.append(rng.choice(sent))  # redelivered: stored and applied once
                continue
            address = rng.choice(addresses + ["ghost@nowhere.example"])
            spelled = address.upper() if rng.random() < 0.2 else address
            occurred = NOW + timedelta(minutes=batch)
            events.append(Reported(f"e{batch}-{n}", rng.choice(kinds), spelled, occurred))
        new = [e for e in {e.event_id: e for e in events}.values() if e not in sent]
        sent += new
        for kind, status, actor in EFFECTS:  # the oracle: the rule book, in processing order
            sources = allowed_sources(actor, status)
            for e in new:
                key = e.address.lower()
                if e.kind is kind and key in expected and expected[key] in sources:
                    expected[key] = status
        ingest(session, feed, events, NOW + timedelta(minutes=batch))
        session.commit()
        after = check_all(session)
        check_append_only(snapshot, after)
        snapshot = after
    assert _statuses(session, customer.account_id) == expected
    assert _statuses(session, other_customer.account_id) == before_b
    stored = session.scalar(sa.select(sa.func.count()).select_from(FeedbackEvent))
    assert stored == len(sent)
    unknown = session.scalar(
        sa.select(sa.func.count()).where(FeedbackEvent.address == "ghost@nowhere.example")
    )
    assert unknown == sum(e.address.lower() == "ghost@nowhere.example" for e in sent)
    pending = session.scalar(sa.select(sa.func.count()).where(FeedbackEvent.outcome == "pending"))
    assert pending == 0
    # Each feedback change is one status event naming the feed and an event of that address.
    for event in session.scalars(sa.select(StatusEvent).where(StatusEvent.note != "")):
        assert event.note.startswith("Generic JSON (Standard Webhooks) feed “Feed”: event e")


def test_soft_bounces_outside_the_window_do_not_count(session, customer, make_contact):
    make_contact(customer, consent=True, email="ada@acme.example")
    feed = _feed(session, customer, soft_bounce_limit=2, soft_bounce_window_hours=24)
    old = Reported("old", K.soft_bounce, "ada@acme.example", NOW - timedelta(hours=30))
    ingest(session, feed, [old], NOW)
    recent = Reported("new", K.soft_bounce, "ada@acme.example", NOW - timedelta(hours=1))
    ingest(session, feed, [recent], NOW + timedelta(seconds=1))
    session.commit()
    outcomes = session.scalars(sa.select(FeedbackEvent.outcome).order_by(FeedbackEvent.id))
    assert [o.value for o in outcomes] == ["soft_counted", "soft_counted"]
    again = Reported("again", K.soft_bounce, "ada@acme.example", NOW)
    ingest(session, feed, [again], NOW + timedelta(seconds=2))
    session.commit()
    last = session.scalar(
        sa.select(FeedbackEvent).where(FeedbackEvent.provider_event_id == "again")
    )
    assert last.outcome.value == "soft_threshold"
    assert _statuses(session, customer.account_id)["ada@acme.example"] is S.single_opt_in


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_ingest_feedback_replays_a_saved_file_once(
    session, runner, customer, make_contact, tmp_path
):
    make_contact(customer, consent=True, email="ada@acme.example")
    make_contact(customer, consent=True, email="bob@acme.example")
    _feed(session, customer, "sendgrid", secret=samples.SendGridKeys().public)
    saved = tmp_path / "sendgrid.json"
    saved.write_bytes(
        samples.sendgrid_events(
            ("bounce", "ada@acme.example"),
            ("spamreport", "bob@acme.example"),
            ("bounce", "nobody@acme.example"),
        )
    )
    args = ["ingest-feedback", str(saved), "--provider", "sendgrid", "--account", "Acme"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "3 events read, 3 new" in result.output and "1 unknown address" in result.output
    assert _statuses(session, customer.account_id)["ada@acme.example"] is S.hard_bounce
    assert _statuses(session, customer.account_id)["bob@acme.example"] is S.spam_complaint
    again = runner.invoke(args=args)
    assert "3 events read, 0 new, 3 already stored" in again.output


def test_ingest_feedback_reads_json_lines_and_names_what_is_missing(
    session, runner, customer, make_contact, tmp_path
):
    make_contact(customer, consent=True, email="ada@acme.example")
    saved = tmp_path / "postmark.jsonl"
    lines = [
        samples.postmark_bounce("ada@acme.example"),
        samples.postmark_unsubscribe("x@y.example"),
    ]
    saved.write_bytes(b"\n".join(lines) + b"\n")
    args = ["ingest-feedback", str(saved), "--provider", "postmark", "--account", "Acme"]
    missing = runner.invoke(args=args)
    assert missing.exit_code != 0 and "needs exactly one Postmark feed" in missing.output
    assert runner.invoke(args=[*args[:-1], "Nobody"]).exit_code != 0
    _feed(session, customer, "postmark")
    result = runner.invoke(args=args)
    assert result.exit_code == 0 and "2 events read, 2 new" in result.output
    assert _statuses(session, customer.account_id)["ada@acme.example"] is S.hard_bounce
    saved.write_text(json.dumps({"RecordType": "Bounce", "Email": "a@b.example"}))
    broken = runner.invoke(args=args)
    assert broken.exit_code != 0 and "has no id" in broken.output
