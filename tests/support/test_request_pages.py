"""The customer's request pages: the form with its rules, filing, following, answering."""

import re

import sqlalchemy as sa

from requests_queue.mass_actions import mass_opt_out
from requests_queue.models import (
    ConsentRequest,
    EmailAddress,
    EmailField,
    OutboxMessage,
    RequestState,
)
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.lifecycle import add_internal_note, ask_customer, claim_request
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of

GOOD = {
    "reason": "These people signed up on our site but the import lost the flag.",
    "never_sent": "y",
    "explicit_permission": "yes",
    "permission_details": "Each ticked an unticked newsletter box on our site form in 2025.",
    "form_links": "https://acme.example/newsletter\nhttps://acme.example/checkout",
    "list_source": "website_form",
    "attested": "y",
}


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _errors(response) -> list[str]:
    return re.findall(r'field-error" role="alert">([^<]*)<', response.get_data(as_text=True))


def _count(session, model):
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_form_shows_the_selection_and_every_rule_next_to_its_field(
    client, session, customer, make_contact
):
    make_contact(customer, email="new@acme.example", email2="two@acme.example")
    make_contact(customer, email="ok@acme.example", consent=True)
    client.login(customer.email)
    page = _text(client.get("/requests/new/opt-in?fields=email"))
    assert 'id="eligible-count">1<' in page
    assert 'id="not-eligible-count">1<' in page
    assert "Already marketable" in page and "Fields: <strong>Email</strong>" in page
    for rule in [
        "At least 30 characters",
        "Today or a date in the past",
        "It must be yes",
        "At least 50 characters",
        "One link per line, 1 to 10 links",
        "Purchased, rented or shared lists are never accepted",
        "not purchased, rented, borrowed or harvested",
    ]:
        assert rule in page


def test_preview_links_to_the_form_keeping_the_selection_and_fields(client, customer, make_contact):
    make_contact(customer, email="new@acme.example", tags=("Fair",))
    client.login(customer.email)
    page = client.get("/mass-actions/new?q=new&fields=email&fields=email2&direction=opt_in")
    link = re.search(r'href="(/requests/new/opt-in[^"]*)"', page.get_data(as_text=True)).group(1)
    assert "q=new" in link and "fields=email&amp;fields=email2" in link


def test_no_to_permission_stops_the_filing_and_points_to_signing_up_again(
    client, session, customer, make_contact
):
    make_contact(customer, email="new@acme.example")
    client.login(customer.email)
    response = client.post(
        "/requests/new/opt-in?fields=email", {**GOOD, "explicit_permission": "no"}
    )
    page = _text(response)
    assert response.status_code == 200
    assert "This request cannot be filed." in page
    assert "signs up again through your own sign-up form" in page
    # DOMAIN.md: double opt-in refuses non-marketable addresses, so it is never the advice.
    assert "double opt-in" not in page.lower()
    assert _count(session, ConsentRequest) == 0


def test_broken_rules_show_next_to_their_fields_and_nothing_is_filed(
    client, session, customer, make_contact
):
    make_contact(customer, email="new@acme.example")
    client.login(customer.email)
    bad = {
        **GOOD,
        "reason": "too short",
        "never_sent": "y",
        "last_sent_on": "2026-01-05",
        "form_links": "acme.example/form",
        "attested": "",
    }
    response = client.post("/requests/new/opt-in?fields=email", bad)
    assert _errors(response) == [
        "Write at least 30 characters (9 so far): why these addresses are not opted in now",
        "Give the date or tick “never”, not both.",
        "“acme.example/form” is not a full web address; it must start with https:// or http://",
        "You must confirm the list was not purchased, rented, borrowed or harvested and that "
        "sending complies with CAN-SPAM and our acceptable-use policy",
    ]
    assert _count(session, ConsentRequest) == 0


def test_filing_confirms_the_number_and_the_decision_window(
    client, session, customer, make_contact
):
    make_contact(customer, email="new@acme.example")
    client.login(customer.email)
    response = client.post("/requests/new/opt-in?fields=email", GOOD)
    req = session.scalars(sa.select(ConsentRequest)).one()
    assert response.headers["Location"].endswith(f"/requests/{req.id}/filed")
    page = _text(client.get(response.headers["Location"]))
    assert f"Request {req.number} filed" in page
    assert "3–5 business days" in page and "expected by <strong>" in page
    assert req.form_links == ["https://acme.example/newsletter", "https://acme.example/checkout"]
    mail = session.scalars(sa.select(OutboxMessage)).one()
    assert (mail.to_address, mail.kind) == (customer.email, "request_filed")


def test_missing_fields_send_the_customer_back_to_the_preview(client, customer):
    client.login(customer.email)
    response = client.get("/requests/new/opt-in")
    assert response.status_code == 302 and "/mass-actions/new" in response.headers["Location"]


def test_undo_starts_from_a_past_mass_opt_out(client, session, customer, make_contact):
    make_contact(customer, email="a@acme.example", consent=True)
    batch = mass_opt_out(
        session, ContactFilter(customer.account_id), (EmailField.email,), actor_of(customer), NOW, 1
    )
    session.commit()
    client.login(customer.email)
    assert f"/mass-actions/{batch.id}/undo" in _text(client.get(f"/mass-actions/{batch.id}"))
    form = _text(client.get(f"/mass-actions/{batch.id}/undo"))
    assert "Undo mass opt-out request" in form and 'id="eligible-count">1<' in form
    response = client.post(f"/mass-actions/{batch.id}/undo", GOOD)
    req = session.scalars(sa.select(ConsentRequest)).one()
    assert response.status_code == 302 and req.mass_action_id == batch.id
    again = _text(client.get(f"/mass-actions/{batch.id}/undo"))
    assert f'Request <a href="/requests/{req.id}">{req.number}</a>' in again
    assert "already covers this mass opt-out" in again
    assert "File the undo request" not in again


def test_my_requests_and_the_request_page_hide_internal_notes(
    client, session, customer, agent, file_opt_in
):
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    add_internal_note(session, req, "Customer looks shady", actor_of(agent), NOW)
    session.commit()
    client.login(customer.email)
    assert req.number in _text(client.get("/requests"))
    page = _text(client.get(f"/requests/{req.id}"))
    assert "Support started the review" in page
    assert "shady" not in page and "Internal" not in page


def test_customer_answers_inline_and_the_request_goes_back_in_review(
    client, session, customer, agent, file_opt_in
):
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    ask_customer(session, req, "Which form exactly?", actor_of(agent), NOW, base_url="http://x")
    session.commit()
    client.login(customer.email)
    page = _text(client.get(f"/requests/{req.id}"))
    assert "Which form exactly?" in page and "Send the answer" in page
    empty = client.post(f"/requests/{req.id}/answer", {"answer": "  "})
    assert empty.status_code == 400 and _errors(empty) == ["Write your answer"]
    client.post(f"/requests/{req.id}/answer", {"answer": "The footer form."})
    session.expire_all()
    assert session.get(ConsentRequest, req.id).state is RequestState.in_review
    assert "The footer form." in _text(client.get(f"/requests/{req.id}"))
    assert agent.email in {m.to_address for m in session.scalars(sa.select(OutboxMessage))}


def test_customer_withdraws_before_a_decision(client, session, customer, file_opt_in):
    req = file_opt_in(customer)
    client.login(customer.email)
    response = client.post(f"/requests/{req.id}/withdraw", follow_redirects=True)
    assert "is withdrawn. Nothing was changed." in _text(response)
    session.expire_all()
    assert session.get(ConsentRequest, req.id).state is RequestState.withdrawn
    again = client.post(f"/requests/{req.id}/withdraw", follow_redirects=True)
    assert "Cannot withdraw a request that is withdrawn." in _text(again)


def test_result_after_approval_shows_changed_and_skipped_with_why(
    client, session, customer, agent, file_opt_in
):
    req = file_opt_in(customer, n=3)
    gone = session.scalar(sa.select(EmailAddress).where(EmailAddress.address == "p0@acme.example"))
    change_status(
        session, gone, EmailStatus.opted_out_by_recipient, Actor(ActorKind.recipient), NOW
    )
    claim_request(session, req, actor_of(agent), NOW)
    approve_request(
        session,
        req,
        actor_of(agent),
        NOW,
        checklist=[k for k, _ in CHECKLIST],
        base_url=REQUEST_BASE_URL,
    )
    session.commit()
    client.login(customer.email)
    page = _text(client.get(f"/requests/{req.id}"))
    assert 'id="changed-count">2<' in page and 'id="skipped-count">1<' in page
    assert "Opted out by the recipient (only they can opt back in)" in page
    assert page.count("Single opt-in") >= 2
