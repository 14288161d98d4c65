"""Specs for webhooks to the platform: queued with the change, signed, delivered at least once
per webhook-id to a real receiver on 127.0.0.1, retried with backoff for 24 hours."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from requests_queue.mass_actions import mass_opt_out
from requests_queue.models import EmailField
from requests_queue.models.webhooks import DeliveryState, WebhookDelivery, WebhookEvent
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.lifecycle import claim_request
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind
from requests_queue.webhooks.endpoints import create_endpoint
from requests_queue.webhooks.sender import (
    DEFAULT_POLICY,
    SendSettings,
    claim_batch,
    deliver_webhooks,
)
from requests_queue.webhooks.targets import TargetPolicy
from tests.webhook_receiver import Receiver

from ..conftest import NOW, REQUEST_BASE_URL, actor_of

E = WebhookEvent
LOOPBACK = TargetPolicy(allow_loopback=True, allow_http=True)
SETTINGS = SendSettings(targets=LOOPBACK, timeout=5)


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 and a free port."""
    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint_for(session):
    """Register an endpoint: endpoint_for(user, url, events=every event the user may have)."""

    def make(user, url, events=None):
        if events is None:
            events = [e.value for e in E] if user.account_id else [e.value for e in E][:5]
        endpoint = create_endpoint(session, user, url, events, "test", LOOPBACK, NOW)
        session.commit()
        return endpoint

    return make


def deliveries(session, **where) -> list[WebhookDelivery]:
    session.expire_all()
    query = sa.select(WebhookDelivery).filter_by(**where).order_by(WebhookDelivery.id)
    return list(session.scalars(query))


def drain(session, start=NOW, settings=SETTINGS, limit=60):
    """Run the sender at `start`, then at each next due time, until nothing is pending."""
    at = start
    for _ in range(limit):
        deliver_webhooks(session, settings, now=lambda at=at: at)
        due = session.scalar(
            sa.select(sa.func.min(WebhookDelivery.next_attempt_at)).where(
                WebhookDelivery.state == DeliveryState.pending
            )
        )
        if due is None:
            return at
        at = max(at, due)
    raise AssertionError("deliveries still pending")


def approve(session, req, agent, at):
    claim_request(session, req, actor_of(agent), at)
    checklist = [key for key, _ in CHECKLIST]
    approve_request(
        session, req, actor_of(agent), at, checklist=checklist, base_url=REQUEST_BASE_URL
    )
    session.commit()


def test_a_receiver_that_fails_then_recovers_gets_every_event_exactly_once_signed(
    session, customer, agent, file_opt_in, endpoint_for, receiver
):
    endpoint = endpoint_for(customer, receiver.url)
    req = file_opt_in(customer, n=3)
    approve(session, req, agent, NOW)
    queued = deliveries(session)
    assert [d.event for d in queued] == [
        E.request_filed,
        E.request_state_changed,  # claimed: submitted → in review
        E.request_state_changed,  # approved
        E.address_status_changed,
        E.request_decided,
    ]
    receiver.fail_next(3)

    drain(session)

    assert len(receiver.received) == len(queued) + 3
    accepted = receiver.accepted
    ids = [r.message_id for r in accepted]
    assert sorted(ids) == sorted(f"msg_{d.id}" for d in queued)  # each exactly once
    assert all(d.state is DeliveryState.delivered for d in deliveries(session))
    verifier = Webhook(endpoint.secret)
    for received in receiver.received:
        verifier.verify(received.body, received.headers)  # raises on a bad signature
    bodies = {r.json["type"]: r.json for r in accepted}
    decided = bodies["request.decided"]["data"]
    assert decided["request"]["number"] == req.number
    assert decided["counts"] == {
        "addresses": 3,
        "changed": 3,
        "skipped": 0,
        "skipped_by_reason": {},
    }
    changes = bodies["address.status_changed"]["data"]["changes"]
    assert sorted(c["address"] for c in changes) == [
        "p0@acme.example",
        "p1@acme.example",
        "p2@acme.example",
    ]
    assert {(c["from"], c["to"]) for c in changes} == {("non_marketable", "single_opt_in")}


def test_a_tampered_body_fails_verification(session, customer, file_opt_in, endpoint_for, receiver):
    endpoint = endpoint_for(customer, receiver.url)
    file_opt_in(customer, n=1)
    drain(session)
    received = receiver.accepted[0]
    tampered = received.body.replace(b"request.filed", b"request.decided")
    with pytest.raises(Exception, match="(?i)signature"):
        Webhook(endpoint.secret).verify(tampered, received.headers)


def test_2500_status_changes_are_three_deliveries_of_at_most_1000(
    session, customer, do_import, endpoint_for, receiver
):
    rows = "\n".join(f"a{i}@acme.example" for i in range(2500))
    do_import("email\n" + rows + "\n", permission=True)
    endpoint_for(customer, receiver.url, events=[E.address_status_changed.value])
    batch = mass_opt_out(
        session,
        ContactFilter(customer.account_id),
        (EmailField.email,),
        Actor(ActorKind.customer, customer.id),
        NOW,
        expected_count=2500,
    )
    session.commit()

    queued = deliveries(session, event=E.address_status_changed)
    assert sorted(d.change_count for d in queued) == [500, 1000, 1000]

    drain(session)
    changes = [c for r in receiver.accepted for c in r.json["data"]["changes"]]
    assert len(changes) == 2500
    assert len({c["address"] for c in changes}) == 2500
    body = receiver.accepted[0].json["data"]
    assert body["cause"] == {"mass_action_id": batch.id}
    assert body["actor"] == "customer"
    assert {(c["from"], c["to"]) for c in changes} == {("single_opt_in", "opted_out_by_user")}


def test_an_account_endpoint_hears_only_its_account_and_the_desk_hears_every_request(
    session, customer, other_customer, manager, file_opt_in, endpoint_for, receiver
):
    with Receiver() as desk:
        mine = endpoint_for(customer, receiver.url)
        endpoint_for(manager, desk.url)
        theirs = file_opt_in(other_customer, n=2)
        drain(session)
        assert receiver.received == []  # nothing of Globex reaches Acme's endpoint
        assert [r.json["data"]["request"]["id"] for r in desk.accepted] == [theirs.id]

        own = file_opt_in(customer, n=1, prefix="q")
        drain(session)
        assert [r.json["data"]["request"]["id"] for r in receiver.accepted] == [own.id]
        assert len(desk.accepted) == 2
    assert {d.endpoint_id for d in deliveries(session, account_id=other_customer.account_id)} != {
        mine.id
    }


def test_backoff_doubles_from_30_seconds_up_to_2_hours_and_gives_up_after_24_hours(
    session, customer, file_opt_in, endpoint_for, receiver
):
    endpoint_for(customer, receiver.url, events=[E.request_filed.value])
    file_opt_in(customer, n=1)
    receiver.fail_next(10_000)

    drain(session)

    (delivery,) = deliveries(session)
    tries = len(receiver.received)
    assert delivery.state is DeliveryState.failed
    assert delivery.attempts == tries
    assert delivery.last_status == 500
    assert delivery.last_response == "receiver is down: try later"
    assert delivery.last_attempt_at == NOW + timedelta(hours=24)  # the last try, exactly then
    waits = [DEFAULT_POLICY.delay(n) for n in range(1, tries)]
    assert waits[:9] == [timedelta(seconds=30 * 2**k) for k in range(8)] + [timedelta(hours=2)]
    assert set(waits[9:-1]) == {timedelta(hours=2)}
    assert sum(waits[:-1], timedelta()) < timedelta(hours=24) <= sum(waits, timedelta())
    assert len({r.message_id for r in receiver.received}) == 1  # the same id on every try


def test_a_dead_senders_claim_is_sent_again_with_the_same_id(
    session, customer, file_opt_in, endpoint_for, receiver
):
    endpoint_for(customer, receiver.url, events=[E.request_filed.value])
    file_opt_in(customer, n=1)
    assert claim_batch(session, "dead-sender", NOW, 10)  # claimed, then the process died
    session.commit()
    deliver_webhooks(session, SETTINGS, now=lambda: NOW + timedelta(minutes=5))
    assert receiver.received == []  # a live claim is left alone
    deliver_webhooks(session, SETTINGS, now=lambda: NOW + timedelta(minutes=11))
    (delivery,) = deliveries(session)
    assert [r.message_id for r in receiver.accepted] == [f"msg_{delivery.id}"]
    assert delivery.state is DeliveryState.delivered


def test_a_second_claim_never_takes_what_another_holds(
    db, session, customer, file_opt_in, endpoint_for, receiver
):
    endpoint_for(customer, receiver.url, events=[E.request_filed.value])
    for prefix in "abcd":
        file_opt_in(customer, n=1, prefix=prefix)
    first = claim_batch(session, "one", NOW, 2)
    if db.engine.dialect.name == "postgresql":
        # Still uncommitted: SKIP LOCKED passes over the rows the first claim holds.
        with sa.orm.Session(db.engine) as other:
            second = claim_batch(other, "two", NOW, 10)
            other.commit()
        session.commit()
    else:
        session.commit()
        second = claim_batch(session, "two", NOW, 10)
        session.commit()
    assert len(first) == 2 and len(second) == 2
    assert not set(first) & set(second)
    assert len(deliveries(session, state=DeliveryState.sending)) == 4


def test_a_host_that_turned_private_is_refused_at_send_time(
    session, customer, file_opt_in, endpoint_for, receiver
):
    endpoint_for(customer, receiver.url, events=[E.request_filed.value])  # allowed then
    file_opt_in(customer, n=1)
    production = SendSettings(targets=TargetPolicy(allow_http=True), timeout=5)
    deliver_webhooks(session, production, now=lambda: NOW)
    (delivery,) = deliveries(session)
    assert receiver.received == []
    assert delivery.state is DeliveryState.pending and delivery.attempts == 1
    assert "loopback" in delivery.last_error


def test_sla_marks_are_delivered_to_the_account_and_the_desk(
    session, customer, manager, file_opt_in, endpoint_for, receiver
):
    from requests_queue.calendar_store import load_calendar
    from requests_queue.sla.sweep import sweep_sla

    endpoint_for(customer, receiver.url, events=[E.sla_at_risk.value, E.sla_breached.value])
    req = file_opt_in(customer, n=1)
    sweep_sla(session, load_calendar(session), NOW + timedelta(days=14), base_url="http://x")
    session.commit()
    drain(session, start=NOW + timedelta(days=14))
    got = {r.json["type"]: r.json["data"] for r in receiver.accepted}
    assert set(got) == {"sla.at_risk", "sla.breached"}
    assert got["sla.breached"]["request"]["number"] == req.number
    assert got["sla.breached"]["request"]["account_id"] == customer.account_id
    assert got["sla.breached"]["threshold"] == "breached"
    # Nothing new on the next sweep: each mark is announced once.
    sweep_sla(session, load_calendar(session), NOW + timedelta(days=15), base_url="http://x")
    session.commit()
    assert len(deliveries(session)) == 2


def test_bodies_are_compact_json_in_the_standard_shape(
    session, customer, file_opt_in, endpoint_for
):
    endpoint_for(customer, "http://127.0.0.1:9/hooks", events=[E.request_filed.value])
    file_opt_in(customer, n=1)
    (delivery,) = deliveries(session)
    body = json.loads(delivery.payload)
    assert set(body) == {"type", "timestamp", "data"}
    assert body["timestamp"] == "2026-11-20T15:00:00Z"
