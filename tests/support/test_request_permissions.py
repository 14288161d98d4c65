"""Who may open and post what on the request pages: every role against every route."""

import pytest
import sqlalchemy as sa

from requests_queue.mass_actions import mass_opt_out
from requests_queue.models import ConsentRequest, EmailField, RequestState
from requests_queue.requests.lifecycle import ask_customer, claim_request, withdraw_request
from requests_queue.selection import ContactFilter
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


@pytest.fixture
def world(session, customer, other_customer, agent, manager, make_contact, file_opt_in):
    """A request of Acme claimed by the agent, and a mass opt-out of Acme."""
    req = file_opt_in(customer, n=2)
    claim_request(session, req, actor_of(agent), NOW)
    make_contact(customer, email="out@acme.example", consent=True)
    flt = ContactFilter(customer.account_id, search="out@")
    batch = mass_opt_out(session, flt, (EmailField.email,), actor_of(customer), NOW, 1)
    session.commit()
    return {"req": req.id, "batch": batch.id}


def _routes(ids):
    r, b = ids["req"], ids["batch"]
    return {
        "customer_pages": [
            ("get", "/requests"),
            ("get", f"/requests/{r}"),
            ("get", f"/requests/{r}/filed"),
            ("get", "/requests/new/opt-in?fields=email"),
            ("get", f"/mass-actions/{b}/undo"),
        ],
        "customer_posts": [("post", f"/requests/{r}/answer"), ("post", f"/requests/{r}/withdraw")],
        "desk_pages": [("get", "/desk/"), ("get", f"/desk/requests/{r}")],
        "desk_posts": [
            ("post", f"/desk/requests/{r}/claim"),
            ("post", f"/desk/requests/{r}/ask"),
            ("post", f"/desk/requests/{r}/note"),
            ("post", f"/desk/requests/{r}/approve"),
            ("post", f"/desk/requests/{r}/reject"),
        ],
        "manager_posts": [("post", f"/desk/requests/{r}/assign")],
    }


def _status(client, method, url):
    return client.get(url).status_code if method == "get" else client.post(url).status_code


def _check(client, routes, expected):
    got = {url: _status(client, method, url) for method, url in routes}
    assert got == {url: expected for _, url in routes}


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    routes = _routes(world)
    for group in routes.values():
        for method, url in group:
            response = client.get(url) if method == "get" else client.post(url)
            assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_customers_never_reach_the_desk(client, customer, world):
    client.login(customer.email)
    routes = _routes(world)
    _check(client, routes["desk_pages"] + routes["desk_posts"] + routes["manager_posts"], 403)


def test_customers_of_another_account_get_not_found(client, other_customer, world):
    client.login(other_customer.email)
    routes = _routes(world)
    mine_only = [
        r for r in routes["customer_pages"] if "/opt-in" not in r[1] and r[1] != "/requests"
    ]
    _check(client, mine_only + routes["customer_posts"], 404)
    assert client.get("/requests").status_code == 200
    assert f"R-{world['req']:06d}" not in client.get("/requests").get_data(as_text=True)


@pytest.mark.parametrize("email", ["agent@support.example", "manager@support.example"])
def test_support_never_acts_as_a_customer(client, world, email):
    client.login(email)
    routes = _routes(world)
    _check(client, routes["customer_pages"] + routes["customer_posts"], 403)


def test_agents_work_the_desk_but_only_managers_assign(client, agent, manager, world):
    client.login(agent.email)
    routes = _routes(world)
    _check(client, routes["desk_pages"], 200)
    _check(client, routes["manager_posts"], 403)
    client.logout()
    client.login(manager.email)
    response = client.post(f"/desk/requests/{world['req']}/assign", {"assignee": str(manager.id)})
    assert response.status_code == 302


def test_an_agent_who_is_not_the_assignee_cannot_decide(client, session, make_user, world):
    from requests_queue.models import Role

    make_user("second@support.example", Role.agent)
    client.login("second@support.example")
    response = client.post(f"/desk/requests/{world['req']}/approve", {"checklist": CHECKED})
    assert response.status_code == 403
    assert session.get(ConsentRequest, world["req"]).state is RequestState.in_review


@pytest.mark.parametrize("state", ["awaiting_customer", "withdrawn"])
def test_agent_cannot_approve_a_request_awaiting_the_customer_or_withdrawn(
    client, session, customer, agent, world, state
):
    req = session.get(ConsentRequest, world["req"])
    if state == "awaiting_customer":
        ask_customer(session, req, "Which form?", actor_of(agent), NOW, base_url=REQUEST_BASE_URL)
    else:
        withdraw_request(session, req, actor_of(customer), NOW)
    session.commit()
    client.login(agent.email)
    response = client.post(
        f"/desk/requests/{req.id}/approve", {"checklist": CHECKED}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "Cannot approve a request that is" in page
    session.expire_all()
    assert session.get(ConsentRequest, req.id).state.value == state
    changed = session.scalar(
        sa.select(sa.func.count())
        .select_from(ConsentRequest)
        .where(ConsentRequest.changed_count > 0)
    )
    assert changed == 0
