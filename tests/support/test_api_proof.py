"""Proof of consent through the API: one address, or a selection; the caller's account only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from requests_queue.mass_actions import mass_opt_out
from requests_queue.models import EmailField
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind, EventChannel
from tests.conftest import NOW


@pytest.fixture
def ada(session, customer, make_contact):
    """Ada added with consent, then opted out through the API's mass action an hour later."""
    make_contact(customer, first_name="Ada", email="ada@acme.example", consent=True)
    make_contact(customer, first_name="Bob", email="bob@acme.example", email2="b2@acme.example")
    mass_opt_out(
        session,
        ContactFilter(customer.account_id, search="ada"),
        (EmailField.email,),
        Actor(ActorKind.customer, customer.id, EventChannel.api),
        NOW + timedelta(hours=1),
        1,
    )
    session.commit()


def test_an_addresses_proof_lists_every_change_with_its_channel(api, customer, make_token, ada):
    token = make_token(customer, scope="read")
    response = api.get("/api/v1/addresses/ADA@acme.example/proof", token)
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.json
    assert body["account"] == "Acme" and body["selection"] == "ada@acme.example"
    [address] = body["addresses"]
    first, second = address["events"]
    assert (first["to_status"], first["actor"]) == ("single_opt_in", "customer")
    assert second["to_status"] == "opted_out_by_user" and second["channel"] == "API"
    assert second["mass_action"]["by"] == customer.email
    assert (first["at"], second["at"]) == ("2026-11-20T15:00:00Z", "2026-11-20T16:00:00Z")


def test_a_change_made_through_the_api_names_the_api_as_its_channel(api, customer, make_token):
    token = make_token(customer)
    created = api.post(
        "/api/v1/contacts",
        token,
        json={"first_name": "Cy", "emails": {"email": "cy@acme.example"}, "consent_recorded": True},
    )
    assert created.status_code == 201
    body = api.get("/api/v1/addresses/cy@acme.example/proof", token).json
    [event] = body["addresses"][0]["events"]
    assert (event["to_status"], event["channel"]) == ("single_opt_in", "API")
    assert event["actor_name"] == customer.email


def test_a_selection_follows_the_contact_lists_filters(api, customer, make_token, ada):
    token = make_token(customer, scope="read")
    body = api.get("/api/v1/proof?status=non_marketable", token).json
    assert [a["address"] for a in body["addresses"]] == ["bob@acme.example", "b2@acme.example"]
    body = api.get("/api/v1/proof?status=non_marketable&field=email2", token).json
    assert [a["address"] for a in body["addresses"]] == ["b2@acme.example"]
    assert body["selection"] == "status Non-marketable"


def test_another_accounts_address_or_tag_is_a_404(
    api, customer, other_customer, make_contact, make_token, ada
):
    theirs = make_contact(other_customer, email="eve@globex.example", tags=("VIP",))
    token = make_token(customer, scope="read")
    assert api.get("/api/v1/addresses/eve@globex.example/proof", token).status_code == 404
    assert api.get(f"/api/v1/proof?tag={theirs.tags[0].id}", token).status_code == 404
    body = api.get("/api/v1/proof", token).json
    assert "globex" not in str(body)


def test_staff_tokens_cannot_read_a_customers_proof(api, agent, make_token, ada):
    token = make_token(agent, scope="read")
    assert api.get("/api/v1/addresses/ada@acme.example/proof", token).status_code == 403
