"""Four-eyes approval through the web: the review page's second review, the manager's
threshold page and the dashboard's list of approvals waiting for a second agent."""

import re

import pytest
import sqlalchemy as sa

from requests_queue.models import ApprovalSettings, ConsentRequest, EmailAddress, RequestState, Role
from requests_queue.requests.lifecycle import claim_request
from requests_queue.requests.second_review import set_second_review_threshold
from requests_queue.statuses import EmailStatus
from tests.conftest import NOW, actor_of
from tests.support.test_agent_desk import CHECKED, _flashes, _text

S = RequestState


@pytest.fixture
def second(make_user):
    return make_user("second@support.example", Role.agent)


@pytest.fixture
def big(session, customer, agent, manager, file_opt_in):
    """A claimed request of 3 addresses with the threshold at 2."""
    set_second_review_threshold(session, 2, actor_of(manager), NOW)
    req = file_opt_in(customer, n=3)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    return req


def _state(session, req) -> RequestState:
    session.expire_all()
    return session.get(ConsentRequest, req.id).state


def _statuses(session) -> set:
    return set(session.scalars(sa.select(EmailAddress.status)))


def test_the_approve_button_says_a_second_review_follows_for_a_big_request(client, agent, big):
    client.login(agent.email)
    page = _text(client.get(f"/desk/requests/{big.id}"))
    assert "3 addresses, more than the 2 one agent approves alone: another agent confirms" in page
    assert "Approve for a second review" in page


def test_first_approval_waits_then_another_agent_confirms_and_it_applies(
    client, session, agent, second, big
):
    client.login(agent.email)
    first = client.post(
        f"/desk/requests/{big.id}/approve",
        {"checklist": CHECKED, "confirmed": "yes"},
        follow_redirects=True,
    )
    assert f"{big.number} approved by you; nothing changes until another agent confirms it." in (
        _flashes(first)
    )
    assert _state(session, big) is S.pending_second_review
    assert _statuses(session) == {EmailStatus.non_marketable}
    page = _text(first)
    assert "You approved it first: another agent confirms it or returns it." in page
    assert 'id="confirm-form"' not in page
    # The first approver posting the confirmation anyway is refused.
    assert (
        client.post(f"/desk/requests/{big.id}/confirm", {"checklist": CHECKED}).status_code == 403
    )
    assert _state(session, big) is S.pending_second_review

    client.logout()
    client.login(second.email)
    page = client.get(f"/desk/requests/{big.id}").get_data(as_text=True)
    assert len(re.findall(r'name="checklist" value="\w+" form="confirm-form"', page)) == 7
    partial = client.post(f"/desk/requests/{big.id}/confirm", {"checklist": CHECKED[:2]})
    assert partial.status_code == 400 and "not checked:" in _text(partial)
    done = client.post(
        f"/desk/requests/{big.id}/confirm", {"checklist": CHECKED}, follow_redirects=True
    )
    assert f"{big.number} confirmed and approved: 3 addresses changed." in _flashes(done)
    assert _state(session, big) is S.approved
    assert _statuses(session) == {EmailStatus.single_opt_in}


def test_confirm_without_the_csrf_token_is_refused(client, session, agent, second, big):
    client.login(agent.email)
    client.post(f"/desk/requests/{big.id}/approve", {"checklist": CHECKED, "confirmed": "yes"})
    client.logout()
    client.login(second.email)
    refused = client.post(f"/desk/requests/{big.id}/confirm", {"checklist": CHECKED}, csrf=False)
    assert refused.status_code == 400
    assert _state(session, big) is S.pending_second_review


def test_the_customer_cannot_reach_the_second_review(client, session, customer, agent, big):
    client.login(agent.email)
    client.post(f"/desk/requests/{big.id}/approve", {"checklist": CHECKED, "confirmed": "yes"})
    client.logout()
    client.login(customer.email)
    for path in ("confirm", "return"):
        response = client.post(f"/desk/requests/{big.id}/{path}", {"checklist": CHECKED})
        assert response.status_code in (403, 404)
    assert _state(session, big) is S.pending_second_review


def test_returning_needs_a_note_and_puts_it_on_the_timeline(client, session, agent, second, big):
    client.login(agent.email)
    client.post(f"/desk/requests/{big.id}/approve", {"checklist": CHECKED, "confirmed": "yes"})
    client.logout()
    client.login(second.email)
    empty = client.post(f"/desk/requests/{big.id}/return", {"note": " "})
    assert empty.status_code == 400 and "Write a note that says what needs another look" in (
        _text(empty)
    )
    back = client.post(
        f"/desk/requests/{big.id}/return",
        {"note": "The <b>second</b> form is a 404."},
        follow_redirects=True,
    )
    assert f"{big.number} is back in review; the first approver sees your note." in _flashes(back)
    assert _state(session, big) is S.in_review
    page = back.get_data(as_text=True)
    assert "Returned from second review" in page
    assert "The &lt;b&gt;second&lt;/b&gt; form is a 404." in page


def test_the_manager_sets_the_threshold_with_a_clear_message_when_wrong(
    client, session, manager, agent
):
    client.login(manager.email)
    page = _text(client.get("/manager/approvals"))
    assert 'value="10000"' in page and "Nothing waits for a second review." in page
    wrong = client.post("/manager/approvals", {"threshold": "-5"})
    assert wrong.status_code == 400 and "Enter a number from 0 to 100,000,000" in _text(wrong)
    words = client.post("/manager/approvals", {"threshold": "lots"})
    assert words.status_code == 400
    saved = client.post("/manager/approvals", {"threshold": "500"}, follow_redirects=True)
    assert "approvals of more than 500 addresses need a second agent" in _text(saved)
    assert session.get(ApprovalSettings, 1).second_review_threshold == 500
    client.logout()
    client.login(agent.email)
    assert client.get("/manager/approvals").status_code == 403
    assert client.post("/manager/approvals", {"threshold": "0"}).status_code == 403


def test_the_dashboard_and_the_queue_show_approvals_waiting_for_a_second_review(
    client, session, agent, manager, big
):
    client.login(agent.email)
    client.post(f"/desk/requests/{big.id}/approve", {"checklist": CHECKED, "confirmed": "yes"})
    client.logout()
    client.login(manager.email)
    board = _text(client.get("/manager/dashboard"))
    assert "Waiting for a second review (1)" in board
    assert f'<a href="/desk/requests/{big.id}">{big.number}</a></td><td>Acme</td>' in board
    assert "agent@support.example" in board
    queue = _text(client.get("/desk/?state=pending_second_review"))
    assert big.number in queue and "Pending second review (1)" in queue


def test_the_api_confirms_only_by_another_agent(api, session, agent, second, make_token, big):
    from requests_queue.requests.evidence import CHECKLIST

    everything = {"checklist": [key for key, _ in CHECKLIST]}
    first, other = make_token(agent), make_token(second)
    approved = api.post(f"/api/v1/requests/{big.id}/approve", first, json=everything)
    assert approved.status_code == 200 and approved.json["state"] == "pending_second_review"
    own = api.post(f"/api/v1/requests/{big.id}/confirm", first, json=everything)
    assert own.status_code == 403
    done = api.post(f"/api/v1/requests/{big.id}/confirm", other, json=everything)
    assert done.status_code == 200
    assert done.json["state"] == "approved" and done.json["changed_count"] == 3
