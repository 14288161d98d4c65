"""A large filing on the customer's and the agent's pages: the POST answers at once, the pages
show the selection being recorded while a background run does it, the approval waits for it,
and a run that died is resumed by the page."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from requests_queue.models import (
    ConsentRequest,
    EmailField,
    OutboxMessage,
    RequestAddress,
    RequestFreeze,
    RequestState,
)
from requests_queue.now import now_utc
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.filing import file_request
from requests_queue.requests.lifecycle import claim_request
from requests_queue.requests.targets import OptInTarget
from requests_queue.selection import ContactFilter
from tests.background_runs import wait_for_freezes
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of
from tests.support.test_request_pages import GOOD

CHECKED = [key for key, _ in CHECKLIST]


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _contacts(make_contact, user, n=3):
    for i in range(n):
        make_contact(user, email=f"p{i}@acme.example")


def _frozen(session, req) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(RequestAddress)
        .where(RequestAddress.request_id == req.id)
    )


def _filed_not_frozen(session, customer, evidence, beat):
    """Filed by the customer; the run that records it is in another process (`beat`)."""
    target = OptInTarget(ContactFilter(customer.account_id), (EmailField.email,))
    req = file_request(
        session, target, evidence, actor_of(customer), NOW, base_url=REQUEST_BASE_URL, inline_max=0
    )
    session.get(RequestFreeze, req.id).heartbeat_at = beat
    session.commit()
    return req


def test_the_customers_filing_answers_at_once_and_the_run_records_it(
    app, client, session, customer, make_contact
):
    app.config["FREEZE_INLINE_MAX"] = 2
    _contacts(make_contact, customer)
    client.login(customer.email)
    response = client.post("/requests/new/opt-in?fields=email", GOOD)
    req = session.scalars(sa.select(ConsentRequest)).one()
    assert response.headers["Location"].endswith(f"/requests/{req.id}/filed")
    wait_for_freezes()
    session.expire_all()  # the test client's requests share the test's session
    assert _frozen(session, req) == 3 and req.address_count == 3
    assert session.get(RequestFreeze, req.id).frozen_count == 3
    page = _text(client.get(f"/requests/{req.id}"))
    assert "Recording the selection" not in page and "3 addresses" in page
    mail = session.scalars(sa.select(OutboxMessage)).one()
    assert (mail.to_address, mail.kind) == (customer.email, "request_filed")


def test_the_filed_page_says_the_selection_is_being_recorded(
    client, session, customer, make_contact, evidence
):
    _contacts(make_contact, customer)
    req = _filed_not_frozen(session, customer, evidence, beat=now_utc())
    client.login(customer.email)
    page = _text(client.get(f"/requests/{req.id}/filed"))
    assert "being recorded in the background" in page
    assert "Support can approve the request once they all are." in page
    assert f"We sent a confirmation to {customer.email}." in page


def test_both_pages_show_the_progress_and_the_approval_waits(
    client, session, customer, other_customer, agent, make_contact, evidence
):
    _contacts(make_contact, customer)
    req = _filed_not_frozen(session, customer, evidence, beat=now_utc())
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    client.login(agent.email)
    page = _text(client.get(f"/desk/requests/{req.id}"))
    assert "Recording the selection…" in page and "0</span> of 3 addresses recorded" in page
    assert "can be approved once they all are" in page and 'http-equiv="refresh"' in page
    progress = client.get(f"/desk/requests/{req.id}/freezing.json").json
    assert progress == {"done": False, "percent": 0, "frozen": 0, "total": 3}
    refused = _text(
        client.post(
            f"/desk/requests/{req.id}/approve",
            {"checklist": CHECKED, "confirmed": "yes"},
            follow_redirects=True,
        )
    )
    assert "the selection is still being recorded; approve it once it is" in refused.lower()
    session.expire_all()
    assert session.get(ConsentRequest, req.id).state is RequestState.in_review
    client.login(customer.email)
    mine = _text(client.get(f"/requests/{req.id}"))
    assert "Recording the selection…" in mine and "0</span> of 3 addresses recorded" in mine
    assert client.get(f"/requests/{req.id}/freezing.json").json["done"] is False
    client.login(other_customer.email)
    assert client.get(f"/requests/{req.id}/freezing.json").status_code == 404


def test_a_run_that_died_is_resumed_by_the_page(client, session, customer, make_contact, evidence):
    _contacts(make_contact, customer)
    req = _filed_not_frozen(session, customer, evidence, beat=now_utc() - timedelta(minutes=5))
    client.login(customer.email)
    assert "Stalled, resuming…" in _text(client.get(f"/requests/{req.id}"))
    wait_for_freezes()
    session.expire_all()
    page = _text(client.get(f"/requests/{req.id}"))
    assert "Recording the selection" not in page
    assert _frozen(session, req) == 3
    assert client.get(f"/requests/{req.id}/freezing.json").json == {
        "done": True,
        "percent": 100,
        "frozen": 3,
        "total": 3,
    }


def test_the_api_files_a_large_selection_and_refuses_its_approval_until_recorded(
    app, api, session, customer, agent, make_contact, make_token, evidence
):
    app.config["FREEZE_INLINE_MAX"] = 2
    _contacts(make_contact, customer)
    body = {
        "kind": "mass_opt_in",
        "fields": ["email"],
        "evidence": {
            "reason": "They signed up on our website but were imported without the flag.",
            "never_sent": True,
            "explicit_permission": "yes",
            "permission_details": "Each person ticked an unticked box on the newsletter form.",
            "form_links": ["https://acme.example/newsletter"],
            "list_source": "website_form",
            "attested": True,
        },
    }
    filed = api.post("/api/v1/requests", make_token(customer), json=body)
    assert filed.status_code == 201 and filed.json["address_count"] == 3
    wait_for_freezes()
    session.expire_all()
    req = session.get(ConsentRequest, filed.json["id"])
    assert _frozen(session, req) == 3 and req.address_count == 3

    waiting = _filed_not_frozen(session, customer, evidence, beat=now_utc())
    desk = make_token(agent)
    api.post(f"/api/v1/requests/{waiting.id}/claim", desk)
    refused = api.post(f"/api/v1/requests/{waiting.id}/approve", desk, json={"checklist": CHECKED})
    assert refused.status_code == 422
    assert "still being recorded" in str(refused.json)
    shown = api.get(f"/api/v1/requests/{waiting.id}", desk).json
    assert (shown["freezing"], shown["applying"]) == (True, False)
    assert api.get(f"/api/v1/requests/{req.id}", desk).json["freezing"] is False
