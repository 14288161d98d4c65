"""The queue page: ticking requests and claiming, assigning or noting them at once; searching;
and the customer's list of requests with its expected-by dates."""

import re

import sqlalchemy as sa

from requests_queue.models import ConsentRequest, RequestEvent, RequestEventKind
from requests_queue.requests.lifecycle import claim_request, withdraw_request
from tests.conftest import NOW, actor_of
from tests.support.test_agent_desk import _flashes, _rows, _text


def _events(session, kind):
    return session.scalars(
        sa.select(RequestEvent).where(RequestEvent.kind == kind).order_by(RequestEvent.id)
    ).all()


def test_bulk_claim_claims_the_free_ones_and_names_each_refusal(
    client, session, customer, agent, manager, file_opt_in
):
    a, b, c = (file_opt_in(customer, n=1, prefix=p) for p in "abc")
    claim_request(session, b, actor_of(manager), NOW)
    session.commit()
    client.login(agent.email)
    queue = client.get("/desk/").get_data(as_text=True)
    for req in (a, c):
        assert (
            f'<input type="checkbox" id="pick-{req.id}" name="selected" value="{req.id}" '
            f'form="bulk-form"><label for="pick-{req.id}" class="sr-only">'
            f"Select {req.number}</label>"
        ) in queue
    response = client.post(
        "/desk/bulk?assignee=none&select=all",
        {"action": "claim", "selected": [str(a.id), str(b.id), str(c.id)]},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/desk/?assignee=none"  # back to the same filter
    flashes = _flashes(client.get("/desk/"))
    assert flashes == [
        "2 requests claimed.",
        f"{b.number}: Manager@support.example claimed {b.number} first.",
    ]
    claims = _events(session, RequestEventKind.claimed)
    assert [(e.request_id, e.actor_user_id) for e in claims] == [
        (b.id, manager.id),
        (a.id, agent.id),
        (c.id, agent.id),
    ]
    session.expire_all()
    assert session.get(ConsentRequest, a.id).assignee_id == agent.id


def test_a_selection_that_is_empty_or_too_large_is_refused_next_to_the_boxes(
    client, session, customer, agent, file_opt_in
):
    req = file_opt_in(customer, n=1)
    client.login(agent.email)
    empty = client.post("/desk/bulk", {"action": "claim"})
    assert empty.status_code == 400
    assert '<p class="field-error" role="alert">Select at least one request</p>' in _text(empty)
    assert (
        client.get("/desk/bulk?kind=mass_opt_in").headers["Location"] == "/desk/?kind=mass_opt_in"
    )
    many = client.post(
        "/desk/bulk", {"action": "claim", "selected": [str(i) for i in range(1, 102)]}
    )
    assert many.status_code == 400
    assert "Select at most 100 requests at a time (101 selected)" in _text(many)
    assert _events(session, RequestEventKind.claimed) == []
    session.expire_all()
    assert session.get(ConsentRequest, req.id).assignee_id is None


def test_agents_are_not_offered_bulk_assign_and_cannot_post_it(
    client, session, customer, agent, file_opt_in
):
    req = file_opt_in(customer, n=1)
    client.login(agent.email)
    assert 'value="assign"' not in client.get("/desk/").get_data(as_text=True)
    refused = client.post(
        "/desk/bulk", {"action": "assign", "bulk_assignee": str(agent.id), "selected": [req.id]}
    )
    assert refused.status_code == 400
    assert _events(session, RequestEventKind.assigned) == []


def test_manager_bulk_assigns_to_an_agent(client, session, customer, agent, manager, file_opt_in):
    a, b = file_opt_in(customer, n=1, prefix="a"), file_opt_in(customer, n=1, prefix="b")
    claim_request(session, b, actor_of(agent), NOW)
    session.commit()
    client.login(manager.email)
    nobody = client.post(
        "/desk/bulk", {"action": "assign", "bulk_assignee": "0", "selected": [a.id]}
    )
    assert nobody.status_code == 400 and "Choose an agent or manager." in _text(nobody)
    response = client.post(
        "/desk/bulk",
        {"action": "assign", "bulk_assignee": str(agent.id), "selected": [a.id, b.id]},
        follow_redirects=True,
    )
    assert _flashes(response) == [
        "1 request assigned to agent@support.example.",
        f"{b.number}: {b.number} is already assigned to them.",
    ]
    (assigned,) = _events(session, RequestEventKind.assigned)
    assert (assigned.request_id, assigned.assignee_id, assigned.actor_user_id) == (
        a.id,
        agent.id,
        manager.id,
    )


def test_bulk_note_adds_an_internal_note_to_each(client, session, customer, agent, file_opt_in):
    a, b = file_opt_in(customer, n=1, prefix="a"), file_opt_in(customer, n=1, prefix="b")
    withdraw_request(session, b, actor_of(customer), NOW)  # notes stay possible after the end
    session.commit()
    client.login(agent.email)
    empty = client.post("/desk/bulk", {"action": "note", "bulk_note": " ", "selected": [a.id]})
    assert empty.status_code == 400 and "Write the note." in _text(empty)
    response = client.post(
        "/desk/bulk",
        {"action": "note", "bulk_note": "Batch checked by phone", "selected": [a.id, b.id]},
        follow_redirects=True,
    )
    assert _flashes(response) == ["2 requests noted."]
    notes = _events(session, RequestEventKind.note)
    assert [(n.request_id, n.body, n.is_internal) for n in notes] == [
        (a.id, "Batch checked by phone", True),
        (b.id, "Batch checked by phone", True),
    ]
    customer_page = client.get(f"/requests/{a.id}")
    assert "Batch checked by phone" not in customer_page.get_data(as_text=True)


def test_bulk_needs_the_csrf_token_and_a_support_role(client, session, customer, file_opt_in):
    req = file_opt_in(customer, n=1)
    client.login(customer.email)
    assert client.post("/desk/bulk", {"action": "claim", "selected": [req.id]}).status_code == 403
    client.logout()
    assert _events(session, RequestEventKind.claimed) == []


def test_select_all_on_this_page_without_javascript(client, customer, agent, file_opt_in):
    reqs = [file_opt_in(customer, n=1, prefix=p) for p in "ab"]
    client.login(agent.email)
    page = client.get("/desk/?select=all").get_data(as_text=True)
    for req in reqs:
        assert f'value="{req.id}" form="bulk-form" checked>' in page
    assert '<a href="/desk/?select=all">Select all on this page</a>' in client.get(
        "/desk/"
    ).get_data(as_text=True)


def test_queue_search_finds_by_number_email_and_account(
    client, customer, other_customer, agent, file_opt_in
):
    acme, globex = (
        file_opt_in(customer, n=1, prefix="a"),
        file_opt_in(other_customer, n=1, prefix="g"),
    )
    client.login(agent.email)
    assert _rows(client.get("/desk/?q=globex").get_data(as_text=True)) == [globex.number]
    assert _rows(client.get(f"/desk/?q={acme.number}").get_data(as_text=True)) == [acme.number]
    found = client.get("/desk/?q=owner%40acme")
    assert _rows(found.get_data(as_text=True)) == [acme.number]
    assert 'value="owner@acme"' in found.get_data(as_text=True)  # the box keeps the search
    nothing = _text(client.get("/desk/?q=%3Cscript%3E"))
    assert "No open request matches." in nothing and "<script>" not in nothing


def test_customer_requests_list_shows_expected_by_for_open_requests(
    client, session, customer, agent, file_opt_in
):
    open_one = file_opt_in(customer, n=1, prefix="a")
    ended = file_opt_in(customer, n=1, prefix="b")
    withdraw_request(session, ended, actor_of(customer), NOW)
    session.commit()
    client.login(customer.email)
    page = _text(client.get("/requests"))
    assert '<th scope="col">Expected by</th>' in page
    rows = dict(re.findall(r">(R-\d+)</a></td>(.*?)</tr>", page))
    # Filed Friday 20 November 08:00 MST, before the day's hours: Friday, Monday, Tuesday.
    assert '<span class="nowrap">Tue 24 Nov, 17:00 MST</span>' in rows[open_one.number]
    assert "<td>—</td>" in rows[ended.number]
