"""The send-time check and an address's history through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from requests_queue.mass_actions import mass_opt_out
from requests_queue.models import EmailField
from requests_queue.selection import ContactFilter
from requests_queue.send_check import MAX_LOOKUP
from requests_queue.statuses import Actor, ActorKind
from tests.conftest import NOW


@pytest.fixture
def opted_out(session, customer, make_contact):
    """Ada opted out by a mass opt-out an hour after she was added; Bob still opted in."""
    make_contact(customer, first_name="Ada", email="Ada@Bücher.example", consent=True)
    make_contact(customer, first_name="Bob", email="bob@acme.example", consent=True)
    batch = mass_opt_out(
        session,
        ContactFilter(customer.account_id, search="ada"),
        (EmailField.email,),
        Actor(ActorKind.customer, customer.id),
        NOW + timedelta(hours=1),
        1,
    )
    session.commit()
    return batch


def test_one_address_answers_status_marketable_since_and_why(api, customer, make_token, opted_out):
    token = make_token(customer, scope="read")
    # Any spelling finds the mailbox: case, punycode, spaces around it.
    for spelling in ("ada@bücher.example", "ADA@xn--bcher-kva.example", " Ada@BÜCHER.example "):
        response = api.get(f"/api/v1/addresses/{spelling}", token)
        assert response.status_code == 200, spelling
        body = response.json
        assert body["address"] == "ada@xn--bcher-kva.example"
        assert body["status"] == "opted_out_by_user"
        assert body["marketable"] is False
        assert body["since"] == "2026-11-20T16:00:00+00:00"
        assert body["why"] == {
            "actor": "customer",
            "at": "2026-11-20T16:00:00+00:00",
            "kind": "mass_action",
            "id": opted_out.id,
            "note": "",
        }
    bob = api.get("/api/v1/addresses/bob@acme.example", token).json
    assert bob["marketable"] is True and bob["status"] == "single_opt_in"


def test_an_unknown_or_foreign_address_is_a_404(
    api, customer, other_customer, make_token, make_contact
):
    make_contact(other_customer, email="secret@globex.example", consent=True)
    token = make_token(customer)
    for email in ("nobody@acme.example", "secret@globex.example", "not an address"):
        response = api.get(f"/api/v1/addresses/{email}", token)
        assert response.status_code == 404, email
        assert response.mimetype == "application/problem+json"
    assert api.get("/api/v1/addresses/x%00y@acme.example", token).status_code == 404


def test_lookup_answers_every_address_in_the_order_asked(
    api, customer, other_customer, make_token, make_contact, opted_out
):
    make_contact(other_customer, email="secret@globex.example", consent=True)
    asked = ["BOB@acme.example", "ada@bücher.example", "secret@globex.example", "bob@acme.example"]
    response = api.post("/api/v1/addresses/lookup", make_token(customer), json={"addresses": asked})
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["query"] for r in results] == asked
    assert [(r["found"], r["marketable"], r["status"]) for r in results] == [
        (True, True, "single_opt_in"),
        (True, False, "opted_out_by_user"),
        (False, False, None),  # another account's address is simply not this account's
        (True, True, "single_opt_in"),
    ]
    assert results[2]["why"] is None and results[2]["since"] is None
    # The batch answer is written by hand for speed: it must be the schema's answer exactly.
    single = api.get("/api/v1/addresses/ada@bücher.example", make_token(customer)).json
    assert results[1] == {**single, "query": "ada@bücher.example"}


def test_lookup_takes_at_most_a_thousand_addresses(api, customer, make_token):
    token = make_token(customer)
    many = [f"a{i}@acme.example" for i in range(MAX_LOOKUP)]
    assert api.post("/api/v1/addresses/lookup", token, json={"addresses": many}).status_code == 200
    too_many = api.post("/api/v1/addresses/lookup", token, json={"addresses": [*many, "x@y.z"]})
    assert too_many.status_code == 422
    assert too_many.json["errors"][0]["field"] == "addresses"


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("nul\x00@acme.example", "cannot be stored"),
        ("a" * 321 + "@acme.example", "Longer than maximum length 320"),
        (42, "Not a valid string"),
    ],
)
def test_one_bad_address_in_a_batch_is_named_and_nothing_is_answered(
    api, customer, make_token, bad, says
):
    batch = ["ada@acme.example", bad, "bob@acme.example"]
    response = api.post("/api/v1/addresses/lookup", make_token(customer), json={"addresses": batch})
    assert response.status_code == 422
    assert "results" not in response.json
    assert any(
        e["field"].startswith("addresses") and "1" in e["field"] and says in e["message"]
        for e in response.json["errors"]
    ), response.json["errors"]


def test_history_lists_events_newest_first_a_page_at_a_time(api, customer, make_token, opted_out):
    token = make_token(customer)
    first = api.get("/api/v1/addresses/ada@bücher.example/history?limit=1", token)
    assert first.status_code == 200
    assert [e["to_status"] for e in first.json["items"]] == ["opted_out_by_user"]
    assert first.json["items"][0]["mass_action_id"] == opted_out.id
    second = api.get(first.json["next"], token)
    assert [e["to_status"] for e in second.json["items"]] == ["single_opt_in"]
    assert second.json["next"] is None
    bad = api.get("/api/v1/addresses/ada@bücher.example/history?cursor=٣", token)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "cursor"


def test_support_tokens_have_no_account_to_check(api, agent, make_token):
    response = api.get("/api/v1/addresses/ada@acme.example", make_token(agent))
    assert response.status_code == 403
