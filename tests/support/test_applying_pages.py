"""A large approval on the agent's and the customer's pages: the click answers at once, the
pages show the progress while a background run applies it, and a run that died is resumed."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from requests_queue.models import EmailAddress, OutboxMessage, RequestApplication
from requests_queue.now import now_utc
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.lifecycle import claim_request
from requests_queue.statuses import EmailStatus
from tests.background_runs import wait_for_approvals
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of

CHECKED = [key for key, _ in CHECKLIST]


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _claimed(session, customer, agent, file_opt_in):
    req = file_opt_in(customer, n=3)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    return req


def _decided_not_applied(session, req, agent, beat):
    """Approved by the agent; the run that applies it is in another process (`beat`)."""
    approve_request(
        session,
        req,
        actor_of(agent),
        NOW,
        checklist=CHECKED,
        base_url=REQUEST_BASE_URL,
        inline_max=0,
    )
    session.get(RequestApplication, req.id).heartbeat_at = beat
    session.commit()


def test_the_agents_click_answers_at_once_and_the_run_applies_it(
    app, client, session, customer, agent, file_opt_in
):
    app.config["APPLY_INLINE_MAX"] = 2
    req = _claimed(session, customer, agent, file_opt_in)
    client.login(agent.email)
    done = client.post(
        f"/desk/requests/{req.id}/approve",
        {"checklist": CHECKED, "confirmed": "yes"},
        follow_redirects=True,
    )
    assert f"{req.number} approved: 3 addresses are being applied in the background." in _text(done)
    wait_for_approvals()
    session.expire_all()  # the test client's requests share the test's session
    page = _text(client.get(f"/desk/requests/{req.id}"))
    assert "Applying the approval" not in page and "3 changed, 0 skipped." in page
    statuses = set(session.scalars(sa.select(EmailAddress.status)))
    assert statuses == {EmailStatus.single_opt_in}
    told = session.scalars(sa.select(OutboxMessage.to_address)).all()
    assert customer.email in told


def test_both_pages_show_the_progress_while_it_applies(
    client, session, customer, other_customer, agent, file_opt_in
):
    req = _claimed(session, customer, agent, file_opt_in)
    _decided_not_applied(session, req, agent, beat=now_utc())
    client.login(agent.email)
    page = _text(client.get(f"/desk/requests/{req.id}"))
    assert "Applying the approval…" in page and "0</span> of 3 addresses done" in page
    assert "being applied (0 changed so far)" in page and 'http-equiv="refresh"' in page
    progress = client.get(f"/desk/requests/{req.id}/applying.json").json
    assert progress == {"done": False, "percent": 0, "processed": 0, "total": 3}
    client.login(customer.email)
    mine = _text(client.get(f"/requests/{req.id}"))
    assert "Applying the approval…" in mine and "Result so far" in mine
    assert client.get(f"/requests/{req.id}/applying.json").json["done"] is False
    client.login(other_customer.email)
    assert client.get(f"/requests/{req.id}/applying.json").status_code == 404


def test_a_run_that_died_is_resumed_by_the_page(client, session, customer, agent, file_opt_in):
    req = _claimed(session, customer, agent, file_opt_in)
    _decided_not_applied(session, req, agent, beat=now_utc() - timedelta(minutes=5))
    client.login(customer.email)
    assert "Stalled, resuming…" in _text(client.get(f"/requests/{req.id}"))
    wait_for_approvals()
    session.expire_all()
    page = _text(client.get(f"/requests/{req.id}"))
    assert "Applying the approval" not in page and 'id="changed-count">3<' in page
