"""A recipient's click: confirm once, unsubscribe any time, and never revive an opt-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from requests_queue.campaigns import (
    ConsentProof,
    Outcome,
    confirm_address,
    inspect_confirm,
    inspect_unsubscribe,
    unsubscribe_address,
)
from requests_queue.campaigns.tokens import Purpose, TokenClaims, make_token
from requests_queue.models import CampaignRecipient, EmailAddress, StatusEvent
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus, EventChannel
from tests.conftest import NOW

S = EmailStatus
SECRET = "test-secret"
PROOF = ConsentProof(ip="203.0.113.9", user_agent="Mozilla/5.0 (X11; Linux) Firefox/140.0")
LATER = NOW + timedelta(hours=2)


@pytest.fixture
def recipient(session, customer, make_contact, make_campaign) -> CampaignRecipient:
    """Ada, single opt-in, sent a confirmation at NOW."""
    make_contact(customer, consent=True, email="ada@acme.example")
    make_contact(customer, consent=True, email="bob@acme.example")
    make_campaign(customer)
    return session.scalar(
        sa.select(CampaignRecipient).where(CampaignRecipient.address == "ada@acme.example")
    )


def _status(session, recipient) -> EmailStatus:
    session.expire_all()
    return session.get(EmailAddress, recipient.address_id).status


def _events(session, recipient) -> list[StatusEvent]:
    return session.scalars(
        sa.select(StatusEvent)
        .where(StatusEvent.address_id == recipient.address_id)
        .order_by(StatusEvent.id)
    ).all()


def _confirm(session, token, at=LATER):
    result = confirm_address(session, SECRET, token, at, PROOF)
    session.commit()
    return result


def test_a_valid_click_confirms_with_proof_of_consent(session, recipient):
    result = _confirm(session, recipient.confirm_token)
    assert result.outcome is Outcome.confirmed
    assert (result.address, result.account_name) == ("ada@acme.example", "Acme")
    assert _status(session, recipient) is S.double_opt_in
    event = _events(session, recipient)[-1]
    assert (event.from_status, event.to_status) == (S.single_opt_in, S.double_opt_in)
    assert event.actor_kind is ActorKind.recipient and event.actor_user_id is None
    assert event.campaign_id == recipient.campaign_id and event.created_at == LATER
    assert "203.0.113.9" in event.note and "Firefox/140.0" in event.note
    assert "2026-11-20 17:00:00 UTC" in event.note
    assert (event.client_ip, event.user_agent) == (PROOF.ip, PROOF.user_agent)
    assert event.channel is EventChannel.recipient_link
    session.refresh(recipient)
    assert recipient.confirmed_at == LATER and recipient.token_used_at == LATER


def test_the_page_before_the_button_changes_nothing(session, recipient):
    assert inspect_confirm(session, SECRET, recipient.confirm_token, LATER).outcome is (
        Outcome.can_confirm
    )
    assert _status(session, recipient) is S.single_opt_in
    assert len(_events(session, recipient)) == 1


def test_a_confirmation_link_works_once(session, recipient):
    _confirm(session, recipient.confirm_token)
    again = _confirm(session, recipient.confirm_token, LATER + timedelta(minutes=1))
    assert again.outcome is Outcome.used
    assert len(_events(session, recipient)) == 2
    assert inspect_confirm(session, SECRET, recipient.confirm_token, LATER).outcome is (
        Outcome.used
    )


def test_an_expired_link_changes_nothing(session, recipient):
    result = _confirm(session, recipient.confirm_token, NOW + timedelta(days=14, seconds=1))
    assert result.outcome is Outcome.expired
    assert _status(session, recipient) is S.single_opt_in


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda r: r.confirm_token[:-2] + "xx", id="tampered signature"),
        pytest.param(lambda r: r.unsubscribe_token, id="unsubscribe token"),
        pytest.param(lambda r: "999." + r.confirm_token.partition(".")[2], id="other campaign"),
        pytest.param(lambda r: "garbage", id="garbage"),
    ],
)
def test_a_tampered_link_changes_nothing(session, recipient, token):
    assert _confirm(session, token(recipient)).outcome is Outcome.invalid
    assert _status(session, recipient) is S.single_opt_in


def test_a_link_signed_for_another_address_changes_nothing(session, recipient):
    """Bob's claims signed with Ada's address: right key, wrong address."""
    bob = session.scalar(
        sa.select(CampaignRecipient).where(CampaignRecipient.address == "bob@acme.example")
    )
    claims = TokenClaims(bob.campaign_id, bob.address_id, bob.token_nonce)
    forged = make_token(SECRET, Purpose.confirm, claims, "ada@acme.example", NOW)
    assert _confirm(session, forged).outcome is Outcome.invalid
    assert _status(session, bob) is S.single_opt_in


def test_a_link_with_a_replaced_nonce_is_revoked(session, recipient):
    session.execute(
        sa.update(CampaignRecipient)
        .where(CampaignRecipient.id == recipient.id)
        .values(token_nonce="revoked")
    )
    session.commit()
    assert _confirm(session, recipient.confirm_token).outcome is Outcome.invalid


@pytest.mark.parametrize(
    ("status", "actor"),
    [
        (S.opted_out_by_recipient, Actor(ActorKind.recipient)),
        (S.opted_out_by_user, Actor(ActorKind.customer, 1)),
        (S.hard_bounce, Actor(ActorKind.system)),
        (S.spam_complaint, Actor(ActorKind.system)),
    ],
)
def test_a_click_after_the_address_opted_out_changes_nothing(
    session, recipient, customer, status, actor
):
    address = session.get(EmailAddress, recipient.address_id)
    if actor.kind is ActorKind.customer:
        actor = Actor(ActorKind.customer, customer.id)
    change_status(session, address, status, actor, NOW + timedelta(hours=1))
    session.commit()
    before = len(_events(session, recipient))
    result = _confirm(session, recipient.confirm_token)
    assert result.outcome is Outcome.no_longer_subscribed
    assert _status(session, recipient) is status
    assert len(_events(session, recipient)) == before
    session.refresh(recipient)
    assert recipient.token_used_at is None and recipient.confirmed_at is None


def test_an_address_confirmed_by_another_link_stays_as_it_is(session, recipient):
    address = session.get(EmailAddress, recipient.address_id)
    change_status(session, address, S.double_opt_in, Actor(ActorKind.recipient), NOW)
    session.commit()
    assert _confirm(session, recipient.confirm_token).outcome is Outcome.already_confirmed
    assert len(_events(session, recipient)) == 2


def _unsubscribe(session, recipient, at=LATER):
    result = unsubscribe_address(session, SECRET, recipient.unsubscribe_token, at, PROOF)
    session.commit()
    return result


def test_unsubscribe_opts_the_address_out_for_the_recipient(session, recipient):
    assert inspect_unsubscribe(session, SECRET, recipient.unsubscribe_token, LATER).outcome is (
        Outcome.can_unsubscribe
    )
    assert _unsubscribe(session, recipient).outcome is Outcome.unsubscribed
    assert _status(session, recipient) is S.opted_out_by_recipient
    event = _events(session, recipient)[-1]
    assert event.actor_kind is ActorKind.recipient and event.campaign_id == recipient.campaign_id
    assert "Unsubscribed" in event.note and "203.0.113.9" in event.note
    session.refresh(recipient)
    assert recipient.unsubscribed_at == LATER


def test_unsubscribing_twice_changes_it_once(session, recipient):
    _unsubscribe(session, recipient)
    assert _unsubscribe(session, recipient).outcome is Outcome.already_unsubscribed
    assert len(_events(session, recipient)) == 2


def test_unsubscribe_works_after_confirming(session, recipient):
    _confirm(session, recipient.confirm_token)
    assert _unsubscribe(session, recipient).outcome is Outcome.unsubscribed
    assert _status(session, recipient) is S.opted_out_by_recipient


@pytest.mark.parametrize("days", [61, 365])
def test_unsubscribe_still_works_months_later(session, recipient, days):
    result = _unsubscribe(session, recipient, NOW + timedelta(days=days))
    assert result.outcome is Outcome.unsubscribed


def test_unsubscribing_a_bounced_address_leaves_its_final_status(session, recipient):
    address = session.get(EmailAddress, recipient.address_id)
    change_status(session, address, S.hard_bounce, Actor(ActorKind.system), NOW)
    session.commit()
    assert _unsubscribe(session, recipient).outcome is Outcome.already_unsubscribed
    assert _status(session, recipient) is S.hard_bounce


def test_a_tampered_unsubscribe_link_changes_nothing(session, recipient):
    token = recipient.unsubscribe_token[:-2] + "xx"
    result = unsubscribe_address(session, SECRET, token, LATER, PROOF)
    assert result.outcome is Outcome.invalid
    assert _status(session, recipient) is S.single_opt_in
