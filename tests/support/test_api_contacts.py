"""Contacts and tags through the API: the web's filters, the permission question, isolation."""

from __future__ import annotations

import sqlalchemy as sa

from requests_queue.models import StatusEvent, Tag


def _new(api, token, **changes):
    body = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "emails": {"email": "Ada@Example.com", "email2": "ada@work.example"},
        "tags": ["Newsletter", "VIP"],
        "consent_recorded": True,
    }
    body.update(changes)
    return api.post("/api/v1/contacts", token, json=body)


def test_a_contact_is_created_with_the_permission_answer(api, session, customer, make_token):
    response = _new(api, make_token(customer))
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/contacts/{body['id']}")
    assert body["tags"] == ["Newsletter", "VIP"]
    first = body["addresses"][0]
    assert first["address"] == "ada@example.com" and first["typed"] == "Ada@Example.com"
    assert first["status"] == "single_opt_in" and first["marketable"] is True
    assert session.scalar(sa.select(sa.func.count()).select_from(StatusEvent)) == 2


def test_without_permission_new_addresses_are_not_marketable(api, customer, make_token):
    body = _new(api, make_token(customer), consent_recorded=False).json
    assert {a["status"] for a in body["addresses"]} == {"non_marketable"}


def test_the_permission_question_must_be_answered(api, customer, make_token):
    response = api.post(
        "/api/v1/contacts", make_token(customer), json={"emails": {"email": "a@b.example"}}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["consent_recorded"]


def test_domain_refusals_name_their_field(api, customer, make_token, make_contact):
    make_contact(customer, email="taken@acme.example")
    token = make_token(customer)
    bad = _new(api, token, emails={"email": "not-an-address"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "email"
    taken = _new(api, token, emails={"email2": "TAKEN@acme.example"})
    assert taken.status_code == 422
    assert taken.json["errors"] == [
        {"field": "email2", "message": "This address already belongs to another contact."}
    ]
    too_long = _new(api, token, first_name="x" * 101)
    assert too_long.status_code == 422 and too_long.json["errors"][0]["field"] == "first_name"


def test_update_keeps_statuses_and_a_changed_address_starts_over(
    api, customer, make_token, make_contact
):
    contact = make_contact(customer, consent=True, email="old@acme.example", tags=("A",))
    token = make_token(customer)
    body = {
        "first_name": "New",
        "emails": {"email": "old@acme.example", "email2": "added@acme.example"},
        "tags": ["B"],
        "consent_recorded": False,
    }
    response = api.put(f"/api/v1/contacts/{contact.id}", token, json=body)
    assert response.status_code == 200
    got = {a["address"]: a["status"] for a in response.json["addresses"]}
    assert got == {"old@acme.example": "single_opt_in", "added@acme.example": "non_marketable"}
    assert response.json["first_name"] == "New" and response.json["tags"] == ["B"]


def test_the_list_filters_like_the_web_and_pages_by_cursor(
    api, session, customer, make_token, make_contact
):
    ids = [
        make_contact(customer, first_name=f"p{i}", email=f"p{i}@acme.example", tags=("T",)).id
        for i in range(3)
    ]
    make_contact(customer, first_name="other", email="o@acme.example", consent=True)
    token = make_token(customer)
    tag = session.scalar(sa.select(Tag.id).where(Tag.name == "T"))
    first = api.get(f"/api/v1/contacts?tag={tag}&status=non_marketable&limit=2", token).json
    assert [c["id"] for c in first["items"]] == ids[::-1][:2]
    second = api.get(first["next"], token).json
    assert [c["id"] for c in second["items"]] == ids[:1] and second["next"] is None
    found = api.get("/api/v1/contacts?q=other", token).json["items"]
    assert [c["first_name"] for c in found] == ["other"]
    tags = api.get("/api/v1/tags", token).json["items"]
    assert [t["name"] for t in tags] == ["T"]


def test_another_accounts_contacts_and_tags_are_404s(
    api, session, customer, other_customer, make_token, make_contact
):
    theirs = make_contact(other_customer, email="x@globex.example", tags=("Theirs",))
    token = make_token(customer)
    assert api.get(f"/api/v1/contacts/{theirs.id}", token).status_code == 404
    body = {"emails": {"email": "y@acme.example"}, "consent_recorded": True}
    assert api.put(f"/api/v1/contacts/{theirs.id}", token, json=body).status_code == 404
    tag = session.scalar(sa.select(Tag.id).where(Tag.name == "Theirs"))
    assert api.get(f"/api/v1/contacts?tag={tag}", token).status_code == 404
    assert api.get("/api/v1/contacts", token).json["items"] == []
    assert api.get("/api/v1/tags", token).json["items"] == []


def test_staff_tokens_have_no_contacts(api, agent, make_token):
    assert api.get("/api/v1/contacts", make_token(agent)).status_code == 403
