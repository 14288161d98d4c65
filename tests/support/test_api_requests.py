"""Requests through the API: filing with evidence, reading, answering, withdrawing, and the
desk's queue and decisions, with the web's refusals and account isolation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from requests_queue.models import ConsentRequest, EmailAddress, RequestState
from requests_queue.requests.evidence import CHECKLIST

EVIDENCE = {
    "reason": "They signed up on our website but were imported without the flag.",
    "never_sent": True,
    "explicit_permission": "yes",
    "permission_details": "Each person ticked an unticked box on the newsletter form in 2025.",
    "form_links": ["https://acme.example/newsletter"],
    "list_source": "website_form",
    "attested": True,
}


def _file(api, token, **changes):
    body = {"kind": "mass_opt_in", "fields": ["email"], "evidence": dict(EVIDENCE)}
    body.update(changes)
    return api.post("/api/v1/requests", token, json=body)


@pytest.fixture
def listed(customer, make_contact):
    """Two non-marketable contacts of Acme, tagged Newsletter."""
    for name in ("ann", "ben"):
        make_contact(customer, first_name=name, email=f"{name}@acme.example", tags=("Newsletter",))


def test_a_customer_files_a_mass_opt_in_with_every_evidence_field(
    api, session, customer, make_token, listed
):
    response = _file(api, make_token(customer), selection={"q": "ann"})
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/requests/{body['id']}")
    assert body["state"] == "submitted" and body["kind"] == "mass_opt_in"
    assert body["address_count"] == 1 and body["fields"] == ["email"]
    assert body["evidence"]["list_source"] == "website_form"
    assert body["evidence"]["never_sent"] is True
    assert [e["kind"] for e in body["timeline"]] == ["filed"]
    assert body["expected_by"] is not None
    assert session.get(ConsentRequest, body["id"]).filed_by_id == customer.id


def test_every_broken_evidence_rule_is_named_by_its_field(api, customer, make_token, listed):
    evidence = {**EVIDENCE, "reason": "too short", "form_links": ["ftp://x"], "attested": False}
    response = _file(api, make_token(customer), evidence=evidence)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    fields = [e["field"] for e in response.json["errors"]]
    assert fields == ["reason", "form_links", "attested"]
    assert "at least 30 characters" in response.json["errors"][0]["message"]


def test_no_permission_cannot_be_filed_and_says_why(api, customer, make_token, listed):
    evidence = {**EVIDENCE, "explicit_permission": "no"}
    response = _file(api, make_token(customer), evidence=evidence)
    assert response.status_code == 422
    (error,) = response.json["errors"]
    assert error["field"] == "explicit_permission"
    assert "cannot be opted in" in error["message"]


def test_a_selection_with_nothing_eligible_is_refused(api, customer, make_token, make_contact):
    make_contact(customer, email="opted@acme.example", consent=True)
    response = _file(api, make_token(customer))
    assert response.status_code == 422
    assert "nothing to request" in response.json["detail"]


def test_another_accounts_tag_or_batch_is_a_404(
    api, session, customer, other_customer, make_token, make_contact, listed
):
    make_contact(other_customer, email="x@globex.example", tags=("Theirs",))
    from requests_queue.models import Tag

    theirs = session.scalar(sa.select(Tag.id).where(Tag.name == "Theirs"))
    assert _file(api, make_token(customer), selection={"tag": theirs}).status_code == 404
    undo = _file(api, make_token(customer), kind="undo_opt_out", mass_action_id=12345)
    assert undo.status_code == 404


def test_requests_of_another_account_are_404s(
    api, customer, other_customer, make_token, file_opt_in
):
    theirs = file_opt_in(other_customer)
    mine = file_opt_in(customer)
    token = make_token(customer)
    assert api.get(f"/api/v1/requests/{theirs.id}", token).status_code == 404
    assert api.post(f"/api/v1/requests/{theirs.id}/withdraw", token).status_code == 404
    listed = api.get("/api/v1/requests", token).json
    assert [r["id"] for r in listed["items"]] == [mine.id]
    for bad in ("0", "2147483648", "99999999999", "٣"):
        assert api.get(f"/api/v1/requests/{bad}", token).status_code == 404, bad


def test_the_list_pages_with_a_next_link(api, customer, make_token, file_opt_in):
    ids = [file_opt_in(customer, n=1, prefix=f"r{i}").id for i in range(3)]
    token = make_token(customer)
    first = api.get("/api/v1/requests?limit=2", token).json
    assert [r["id"] for r in first["items"]] == ids[::-1][:2]
    second = api.get(first["next"], token).json
    assert [r["id"] for r in second["items"]] == ids[:1] and second["next"] is None


def test_the_customer_withdraws_before_a_decision(api, customer, make_token, file_opt_in):
    req = file_opt_in(customer)
    token = make_token(customer)
    response = api.post(f"/api/v1/requests/{req.id}/withdraw", token)
    assert response.status_code == 200 and response.json["state"] == "withdrawn"
    again = api.post(f"/api/v1/requests/{req.id}/withdraw", token)
    assert again.status_code == 409 and "withdrawn" in again.json["detail"]


def test_the_desk_works_a_request_through_the_api(
    api, session, customer, agent, make_token, file_opt_in
):
    req = file_opt_in(customer)
    desk, owner = make_token(agent), make_token(customer)

    queue = api.get("/api/v1/queue", desk).json
    assert [r["id"] for r in queue["items"]] == [req.id]
    claimed = api.post(f"/api/v1/requests/{req.id}/claim", desk)
    assert claimed.status_code == 200 and claimed.json["assignee_id"] == agent.id
    asked = api.post(f"/api/v1/requests/{req.id}/ask", desk, json={"question": "Which form?"})
    assert asked.json["state"] == "awaiting_customer"

    answer = api.post(f"/api/v1/requests/{req.id}/answer", owner, json={"answer": "The footer."})
    assert answer.status_code == 200 and answer.json["state"] == "in_review"
    assert [e["kind"] for e in answer.json["timeline"]][-2:] == ["question", "answer"]

    partial = api.post(f"/api/v1/requests/{req.id}/approve", desk, json={"checklist": ["reason"]})
    assert partial.status_code == 422 and partial.json["errors"][0]["field"] == "checklist"
    everything = [key for key, _ in CHECKLIST]
    approved = api.post(f"/api/v1/requests/{req.id}/approve", desk, json={"checklist": everything})
    assert approved.status_code == 200
    assert approved.json["state"] == "approved" and approved.json["changed_count"] == 3
    statuses = set(session.scalars(sa.select(EmailAddress.status)))
    assert {s.value for s in statuses} == {"single_opt_in"}


def test_the_desk_rejects_with_a_reason(api, customer, agent, make_token, file_opt_in):
    req = file_opt_in(customer)
    desk = make_token(agent)
    api.post(f"/api/v1/requests/{req.id}/claim", desk)
    body = {"reason": "stale_list", "message": "The list was last mailed in 2019."}
    rejected = api.post(f"/api/v1/requests/{req.id}/reject", desk, json=body)
    assert rejected.status_code == 200 and rejected.json["reject_reason"] == "stale_list"
    seen = api.get(f"/api/v1/requests/{req.id}", make_token(customer)).json
    assert seen["state"] == "rejected" and seen["decision_message"] == body["message"]


def test_roles_and_scopes_are_the_webs(
    api, session, customer, agent, make_user, make_token, file_opt_in
):
    req = file_opt_in(customer)
    owner = make_token(customer)
    assert api.get("/api/v1/queue", owner).status_code == 403
    assert api.post(f"/api/v1/requests/{req.id}/claim", owner).status_code == 403
    reader = make_token(agent, scope="read")
    assert api.get(f"/api/v1/requests/{req.id}", reader).status_code == 200
    assert api.post(f"/api/v1/requests/{req.id}/claim", reader).status_code == 403
    desk = make_token(agent)
    assert api.post(f"/api/v1/requests/{req.id}/withdraw", desk).status_code == 403
    assert _file(api, desk).status_code == 403
    other_agent = make_token(make_user("other@support.example", agent.role))
    api.post(f"/api/v1/requests/{req.id}/claim", desk)
    taken = api.post(f"/api/v1/requests/{req.id}/claim", other_agent)
    assert taken.status_code == 409 and "first" in taken.json["detail"]
    assert session.get(ConsentRequest, req.id).state is RequestState.in_review
