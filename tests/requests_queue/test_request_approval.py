"""Approval applies a request exactly once, re-checking eligibility at that moment."""

import threading

import pytest
import sqlalchemy as sa

from requests_queue.errors import Conflict, InvalidTransition, ValidationError
from requests_queue.mass_actions import Direction, mass_opt_out, preview
from requests_queue.models import (
    AddressOutcome,
    ConsentRequest,
    EmailAddress,
    EmailField,
    RequestAddress,
    RequestState,
    StatusEvent,
)
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.filing import file_request
from requests_queue.requests.lifecycle import ask_customer, claim_request, withdraw_request
from requests_queue.requests.targets import UndoTarget, eligibility_now
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of

S = EmailStatus
ALL_CHECKED = [k for k, _ in CHECKLIST]


def _approve(session, req, user, checklist=ALL_CHECKED):
    return approve_request(
        session, req, actor_of(user), NOW, checklist=checklist, base_url=REQUEST_BASE_URL
    )


def _statuses(session, account_id):
    return dict(
        session.execute(
            sa.select(EmailAddress.address, EmailAddress.status).where(
                EmailAddress.account_id == account_id
            )
        ).all()
    )


def _address(session, address):
    return session.scalar(sa.select(EmailAddress).where(EmailAddress.address == address))


def _events(session, req):
    return session.scalars(sa.select(StatusEvent).where(StatusEvent.request_id == req.id)).all()


def test_approval_opts_in_the_frozen_addresses_with_events_naming_request_and_agent(
    session, customer, agent, file_opt_in
):
    req = file_opt_in(customer, n=3)
    claim_request(session, req, actor_of(agent), NOW)
    _approve(session, req, agent)
    session.commit()
    assert set(_statuses(session, customer.account_id).values()) == {S.single_opt_in}
    events = _events(session, req)
    assert len(events) == 3
    assert {(e.from_status, e.to_status, e.actor_kind, e.actor_user_id) for e in events} == {
        (S.non_marketable, S.single_opt_in, ActorKind.agent, agent.id)
    }
    assert (req.state, req.changed_count, req.skipped_count) == (RequestState.approved, 3, 0)
    assert (req.decided_by_id, req.decided_at) == (agent.id, NOW)
    assert req.checklist == ALL_CHECKED


def test_addresses_changed_since_filing_are_skipped_and_reported(
    session, customer, agent, file_opt_in
):
    req = file_opt_in(customer, n=3)
    change_status(
        session,
        _address(session, "p0@acme.example"),
        S.opted_out_by_recipient,
        Actor(ActorKind.recipient),
        NOW,
    )
    change_status(
        session, _address(session, "p1@acme.example"), S.hard_bounce, Actor(ActorKind.system), NOW
    )
    claim_request(session, req, actor_of(agent), NOW)
    preview_now = eligibility_now(session, req)
    assert (preview_now.total, preview_now.eligible) == (3, 1)
    _approve(session, req, agent)
    session.commit()
    assert _statuses(session, customer.account_id) == {
        "p0@acme.example": S.opted_out_by_recipient,
        "p1@acme.example": S.hard_bounce,
        "p2@acme.example": S.single_opt_in,
    }
    assert (req.changed_count, req.skipped_count) == (1, 2)
    assert req.skipped_by_reason == {
        "Hard bounce": 1,
        "Opted out by the recipient (only they can opt back in)": 1,
    }
    outcomes = dict(
        session.execute(
            sa.select(EmailAddress.address, RequestAddress.outcome)
            .join(RequestAddress, RequestAddress.address_id == EmailAddress.id)
            .where(RequestAddress.request_id == req.id)
        ).all()
    )
    assert outcomes == {
        "p0@acme.example": AddressOutcome.skipped,
        "p1@acme.example": AddressOutcome.skipped,
        "p2@acme.example": AddressOutcome.changed,
    }


def test_approving_twice_changes_nothing_the_second_time(session, customer, agent, file_opt_in):
    req = file_opt_in(customer, n=2)
    claim_request(session, req, actor_of(agent), NOW)
    _approve(session, req, agent)
    session.commit()
    with pytest.raises(InvalidTransition, match="already approved"):
        _approve(session, req, agent)
    session.rollback()
    assert len(_events(session, req)) == 2
    assert session.get(ConsentRequest, req.id).changed_count == 2


@pytest.mark.parametrize("state", ["awaiting_customer", "withdrawn", "submitted"])
def test_cannot_approve_unless_in_review(session, customer, agent, file_opt_in, state):
    req = file_opt_in(customer)
    if state != "submitted":
        claim_request(session, req, actor_of(agent), NOW)
    if state == "awaiting_customer":
        ask_customer(session, req, "Which form?", actor_of(agent), NOW, base_url=REQUEST_BASE_URL)
    if state == "withdrawn":
        withdraw_request(session, req, actor_of(customer), NOW)
    session.commit()
    with pytest.raises(InvalidTransition):
        _approve(session, req, agent)
    session.rollback()
    assert set(_statuses(session, customer.account_id).values()) == {S.non_marketable}


def test_approval_needs_every_checklist_item(session, customer, agent, file_opt_in):
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    with pytest.raises(ValidationError, match="not checked: Sign-up form links, Attestation") as e:
        _approve(
            session,
            req,
            agent,
            checklist=[k for k in ALL_CHECKED if k not in ("form_links", "attestation")],
        )
    assert e.value.field == "checklist"
    session.rollback()
    assert session.get(ConsentRequest, req.id).state is RequestState.in_review


def test_undo_restores_each_exact_prior_status_and_skips_what_changed_meanwhile(
    session, customer, agent, make_contact, evidence
):
    make_contact(customer, email="was-non@acme.example")
    make_contact(customer, email="was-single@acme.example", consent=True)
    make_contact(customer, email="was-double@acme.example", consent=True)
    make_contact(customer, email="unsubscribes@acme.example", consent=True)
    recipient = Actor(ActorKind.recipient)
    change_status(
        session, _address(session, "was-double@acme.example"), S.double_opt_in, recipient, NOW
    )
    flt = ContactFilter(customer.account_id)
    n = preview(session, flt, (EmailField.email,), Direction.opt_out).changing
    batch = mass_opt_out(session, flt, (EmailField.email,), actor_of(customer), NOW, n)
    req = file_request(
        session,
        UndoTarget(customer.account_id, batch.id),
        evidence,
        actor_of(customer),
        NOW,
        base_url=REQUEST_BASE_URL,
    )
    session.commit()
    assert req.address_count == 4
    # After filing, the recipient of one address unsubscribes.
    change_status(
        session,
        _address(session, "unsubscribes@acme.example"),
        S.opted_out_by_recipient,
        recipient,
        NOW,
    )
    claim_request(session, req, actor_of(agent), NOW)
    _approve(session, req, agent)
    session.commit()
    assert _statuses(session, customer.account_id) == {
        "was-non@acme.example": S.non_marketable,
        "was-single@acme.example": S.single_opt_in,
        "was-double@acme.example": S.double_opt_in,
        "unsubscribes@acme.example": S.opted_out_by_recipient,
    }
    assert (req.changed_count, req.skipped_count) == (3, 1)
    assert req.skipped_by_reason == {
        "Opted out by the recipient since (only they can opt back in)": 1
    }
    assert {(e.from_status, e.to_status) for e in _events(session, req)} == {
        (S.opted_out_by_user, S.non_marketable),
        (S.opted_out_by_user, S.single_opt_in),
        (S.opted_out_by_user, S.double_opt_in),
    }


def test_undo_skips_an_address_opted_out_again_by_a_later_batch(
    session, customer, agent, make_contact, evidence
):
    make_contact(customer, email="a@acme.example", consent=True)
    flt = ContactFilter(customer.account_id)
    first = mass_opt_out(session, flt, (EmailField.email,), actor_of(customer), NOW, 1)
    req = file_request(
        session,
        UndoTarget(customer.account_id, first.id),
        evidence,
        actor_of(customer),
        NOW,
        base_url=REQUEST_BASE_URL,
    )
    session.commit()
    # Meanwhile the address came back (recipient's own choice) and was opted out again.
    address = _address(session, "a@acme.example")
    change_status(session, address, S.opted_out_by_recipient, Actor(ActorKind.recipient), NOW)
    change_status(session, address, S.double_opt_in, Actor(ActorKind.recipient), NOW)
    mass_opt_out(session, flt, (EmailField.email,), actor_of(customer), NOW, 1)
    claim_request(session, req, actor_of(agent), NOW)
    _approve(session, req, agent)
    session.commit()
    assert _statuses(session, customer.account_id) == {"a@acme.example": S.opted_out_by_user}
    assert req.skipped_by_reason == {"Opted out again by a later action": 1}


@pytest.mark.postgres_only
def test_two_agents_approving_at_once_apply_the_change_once(
    app, session, customer, agent, manager, file_opt_in
):
    req = file_opt_in(customer, n=50)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    from support.extensions import db

    barrier = threading.Barrier(2)
    outcomes = []

    def approve_as(user_id, kind):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                approve_request(
                    db.session,
                    db.session.get(ConsentRequest, req.id),
                    Actor(kind, user_id),
                    NOW,
                    checklist=ALL_CHECKED,
                    base_url=REQUEST_BASE_URL,
                )
                db.session.commit()
                outcomes.append("approved")
            except (InvalidTransition, Conflict) as exc:
                db.session.rollback()
                outcomes.append(type(exc).__name__)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=approve_as, args=(agent.id, ActorKind.agent)),
        threading.Thread(target=approve_as, args=(manager.id, ActorKind.manager)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    session.expire_all()
    assert sorted(outcomes) == ["InvalidTransition", "approved"]
    assert len(_events(session, req)) == 50
    assert session.get(ConsentRequest, req.id).changed_count == 50
    assert set(_statuses(session, customer.account_id).values()) == {S.single_opt_in}


@pytest.mark.postgres_only
def test_two_agents_claiming_at_once_one_wins_the_other_is_told(
    app, session, customer, agent, make_user, file_opt_in
):
    from requests_queue.models import Role
    from support.extensions import db

    other = make_user("second@support.example", Role.agent)
    req = file_opt_in(customer)
    barrier = threading.Barrier(2)
    outcomes = []

    def claim_as(user_id):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                claim_request(
                    db.session,
                    db.session.get(ConsentRequest, req.id),
                    Actor(ActorKind.agent, user_id),
                    NOW,
                )
                db.session.commit()
                outcomes.append("claimed")
            except Conflict:
                db.session.rollback()
                outcomes.append("told")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim_as, args=(u.id,)) for u in (agent, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["claimed", "told"]
