"""The agent desk: the queue with its counts, the review page and every action on it."""

import re

import sqlalchemy as sa

from requests_queue.models import (
    ConsentRequest,
    EmailAddress,
    OutboxMessage,
    RejectReason,
    RequestState,
    Role,
)
from requests_queue.requests.lifecycle import claim_request, reject_request
from requests_queue.statuses import EmailStatus
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of

CHECKED = [
    "reason",
    "last_sent",
    "explicit_permission",
    "permission_details",
    "form_links",
    "list_source",
    "attestation",
]


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _flashes(response) -> list[str]:
    return re.findall(r'class="flash \w+" role="\w+">([^<]*)<', response.get_data(as_text=True))


def _rows(page: str) -> list[str]:
    return re.findall(r'<td><a href="/desk/requests/\d+">(R-\d+)</a></td>', page)


def test_queue_lists_open_requests_oldest_first_with_counts(
    client, session, customer, other_customer, agent, file_opt_in
):
    first = file_opt_in(customer, n=1, prefix="a")
    second = file_opt_in(other_customer, n=2, prefix="b")
    decided = file_opt_in(customer, n=1, prefix="c")
    claim_request(session, decided, actor_of(agent), NOW)
    reject_request(
        session, decided, RejectReason.other, "No.", actor_of(agent), NOW, base_url="http://x"
    )
    claim_request(session, second, actor_of(agent), NOW)
    session.commit()
    client.login(agent.email)
    page = _text(client.get("/desk/"))
    assert _rows(page) == [first.number, second.number]
    assert "2 open" in page
    assert "Mine (1)" in page and "Unassigned (1)" in page
    assert "Acme (1)" in page and "Globex (1)" in page
    assert "Submitted (1)" in page and "In review (1)" in page and "Mass opt-in (2)" in page
    mine = _text(client.get("/desk/?assignee=me"))
    assert _rows(mine) == [second.number]
    newest = _text(client.get("/desk/?order=newest"))
    assert _rows(newest) == [second.number, first.number]


def test_claiming_from_the_queue_and_being_second(
    client, session, customer, agent, make_user, file_opt_in
):
    make_user("second@support.example", Role.agent)
    req = file_opt_in(customer)
    client.login(agent.email)
    response = client.post(f"/desk/requests/{req.id}/claim", follow_redirects=True)
    assert f"You claimed {req.number}." in _flashes(response)
    client.logout()
    client.login("second@support.example")
    response = client.post(f"/desk/requests/{req.id}/claim", follow_redirects=True)
    assert f"Agent@support.example claimed {req.number} first." in _flashes(response)


def test_review_page_shows_evidence_links_checklist_eligibility_and_history(
    client, session, customer, agent, file_opt_in
):
    earlier = file_opt_in(customer, n=1, prefix="old")
    req = file_opt_in(customer, n=3)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    client.login(agent.email)
    page = _text(client.get(f"/desk/requests/{req.id}"))
    assert (
        '<a href="https://acme.example/newsletter" target="_blank" rel="noopener noreferrer">'
        in page
    )
    assert len(re.findall(r'name="checklist" value="\w+" form="approve-form"', page)) == 7
    assert 'id="eligible-now">4<' in page  # the earlier request's address is in it too
    assert f">{earlier.number}</a>" in page
    assert "They signed up on our website" in page
    assert "frozen at filing" in page and "<strong>1 addresses" not in page
    assert "<strong>1 address</strong> frozen at filing" in _text(
        client.get(f"/desk/requests/{earlier.id}")
    )


def test_ask_note_and_answer_flow_keeps_notes_internal(
    client, session, customer, agent, file_opt_in
):
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    client.login(agent.email)
    client.post(f"/desk/requests/{req.id}/note", {"note": "Form checked by phone"})
    response = client.post(f"/desk/requests/{req.id}/ask", {"question": "Is the box unticked?"})
    assert response.status_code == 302
    page = _text(client.get(f"/desk/requests/{req.id}"))
    assert "Form checked by phone" in page and "Support only" in page
    assert "It cannot be approved until they answer." in page
    session.expire_all()
    assert session.get(ConsentRequest, req.id).state is RequestState.awaiting_customer
    kinds = [m.kind for m in session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds == ["request_filed", "request_question"]
    empty = client.post(f"/desk/requests/{req.id}/note", {"note": ""})
    assert empty.status_code == 400 and "Write the note" in _text(empty)


def test_approve_needs_the_checklist_then_applies_the_changes(
    client, session, customer, agent, file_opt_in
):
    req = file_opt_in(customer, n=2)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    client.login(agent.email)
    partial = client.post(f"/desk/requests/{req.id}/approve", {"checklist": CHECKED[:3]})
    assert partial.status_code == 400
    assert "not checked: How, when and where permission was obtained" in _text(partial)
    asked = client.post(f"/desk/requests/{req.id}/approve", {"checklist": CHECKED})
    assert "2 addresses will become single opt-in" in _text(asked)  # asked once more
    assert session.scalar(sa.select(EmailAddress.status).limit(1)) is EmailStatus.non_marketable
    done = client.post(
        f"/desk/requests/{req.id}/approve",
        {"checklist": CHECKED, "confirmed": "yes"},
        follow_redirects=True,
    )
    assert f"{req.number} approved: 2 addresses changed." in _flashes(done)
    statuses = set(session.scalars(sa.select(EmailAddress.status)))
    assert statuses == {EmailStatus.single_opt_in}
    twice = client.post(
        f"/desk/requests/{req.id}/approve",
        {"checklist": CHECKED, "confirmed": "yes"},
        follow_redirects=True,
    )
    assert "Cannot approve a request that is already approved." in _flashes(twice)


def test_reject_needs_a_reason_and_the_customer_reads_it(
    client, session, customer, agent, file_opt_in
):
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    client.login(agent.email)
    missing = client.post(f"/desk/requests/{req.id}/reject", {"message": "Bought list."})
    assert missing.status_code == 400 and "Choose a reason." in _text(missing)
    client.post(
        f"/desk/requests/{req.id}/reject",
        {"reason": "third_party_list", "message": "The form links to a list broker."},
    )
    client.logout()
    client.login(customer.email)
    page = _text(client.get(f"/requests/{req.id}"))
    assert "Rejected: The list looks purchased, rented, shared or harvested" in page
    assert "The form links to a list broker." in page


def test_manager_assigns_and_reassigns(client, session, customer, agent, manager, file_opt_in):
    req = file_opt_in(customer)
    client.login(manager.email)
    client.post(f"/desk/requests/{req.id}/assign", {"assignee": str(agent.id)})
    session.expire_all()
    assert (req.state, req.assignee_id) == (RequestState.in_review, agent.id)
    client.post(f"/desk/requests/{req.id}/assign", {"assignee": str(manager.id)})
    session.expire_all()
    assert session.get(ConsentRequest, req.id).assignee_id == manager.id
    page = _text(client.get(f"/desk/requests/{req.id}"))
    assert "Reassign" in page


def test_review_of_a_missing_request_is_not_found(client, agent):
    client.login(agent.email)
    assert client.get("/desk/requests/999").status_code == 404
    assert client.post("/desk/requests/999/claim").status_code == 404


def test_links_in_mail_use_the_public_base_url(client, app, session, customer, agent, file_opt_in):
    app.config["PUBLIC_BASE_URL"] = REQUEST_BASE_URL
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    client.login(agent.email)
    client.post(f"/desk/requests/{req.id}/ask", {"question": "Which form?"})
    mail = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "request_question")
    ).one()
    assert f"{REQUEST_BASE_URL}/requests/{req.id}" in mail.body_text


def test_review_page_shows_the_clock_paused_while_waiting_for_the_customer(
    client, session, customer, agent
):
    from datetime import timedelta

    from tests.conftest import play_timeline

    req = play_timeline(
        session,
        customer,
        [
            (NOW - timedelta(days=2), "file", customer),
            (NOW - timedelta(days=1), "claim", agent),
            (NOW - timedelta(hours=20), "ask", agent),
        ],
    )
    client.login(agent.email)
    page = client.get(f"/desk/requests/{req.id}").get_data(as_text=True)
    assert "paused: waiting for the customer" in page
    assert re.search(r"due \w{3} \d{1,2} \w{3}, \d\d:\d\d MST", page)
