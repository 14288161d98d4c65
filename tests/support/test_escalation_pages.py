"""The one-click reassignment an SLA alert offers: a confirm page (a GET changes nothing) whose
CSRF-protected POST reassigns the request and writes its timeline event; managers only."""

import pytest

from requests_queue.models import ConsentRequest, RequestEventKind, Role
from requests_queue.requests.lifecycle import claim_request
from requests_queue.requests.timeline import request_timeline
from tests.conftest import NOW, actor_of
from tests.support.test_agent_desk import _text


@pytest.fixture
def bob(make_user):
    return make_user("bob@support.example", Role.agent)


@pytest.fixture
def held(session, customer, agent, file_opt_in):
    req = file_opt_in(customer, n=1)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    return req


def _assignee(session, req) -> int | None:
    session.expire_all()
    return session.get(ConsentRequest, req.id).assignee_id


def test_the_link_opens_a_confirm_page_with_the_agent_chosen_and_changes_nothing(
    client, session, manager, agent, bob, held
):
    client.login(manager.email)
    page = _text(client.get(f"/manager/requests/{held.id}/reassign?to={bob.id}"))
    assert f"Reassign {held.number}" in page
    assert "Assigned now to <strong>agent@support.example</strong>" in page
    assert f'<option selected value="{bob.id}">bob@support.example</option>' in page
    assert _assignee(session, held) == agent.id


def test_confirming_reassigns_and_the_timeline_records_it(
    client, session, manager, agent, bob, held
):
    client.login(manager.email)
    done = client.post(
        f"/manager/requests/{held.id}/reassign", {"assignee": bob.id}, follow_redirects=True
    )
    assert f"{held.number} is assigned to bob@support.example." in _text(done)
    assert _assignee(session, held) == bob.id
    last = request_timeline(session, held.id)[-1]
    assert (last.kind, last.actor_user_id, last.assignee_id) == (
        RequestEventKind.assigned,
        manager.id,
        bob.id,
    )


def test_without_the_csrf_token_nothing_is_reassigned(client, session, manager, bob, agent, held):
    client.login(manager.email)
    refused = client.post(f"/manager/requests/{held.id}/reassign", {"assignee": bob.id}, csrf=False)
    assert refused.status_code == 400
    assert _assignee(session, held) == agent.id


def test_agents_and_customers_cannot_use_it_and_unknown_requests_are_404(
    client, session, customer, agent, bob, manager, held
):
    for user in (agent, customer):
        client.login(user.email)
        assert client.get(f"/manager/requests/{held.id}/reassign?to={bob.id}").status_code == 403
        post = client.post(f"/manager/requests/{held.id}/reassign", {"assignee": bob.id})
        assert post.status_code == 403
        client.logout()
    assert _assignee(session, held) == agent.id
    client.login(manager.email)
    assert client.get("/manager/requests/999999/reassign").status_code == 404


def test_a_stale_link_suggests_someone_else_and_a_closed_request_is_not_offered(
    client, session, manager, agent, bob, customer, held
):
    from requests_queue.requests.lifecycle import withdraw_request

    bob.is_active = False
    session.commit()
    client.login(manager.email)
    page = _text(client.get(f"/manager/requests/{held.id}/reassign?to={bob.id}"))
    assert f'<option selected value="{bob.id}"' not in page  # a leaver is not proposed
    withdraw_request(session, held, actor_of(customer), NOW)
    session.commit()
    page = _text(client.get(f"/manager/requests/{held.id}/reassign?to={agent.id}"))
    assert "cannot be reassigned now: it is withdrawn" in page
    assert f'action="/manager/requests/{held.id}/reassign"' not in page
