"""Four-eyes approval in Chromium: agent A approves a request above the threshold, which then
waits for a second review with nothing applied; agent B confirms it and the changes apply."""

import re
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from requests_queue.models import ConsentRequest, EmailAddress, RequestState, Role, User
from requests_queue.now import now_utc
from requests_queue.requests.second_review import set_second_review_threshold
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from support.auth.passwords import hash_password
from support.demo import DEMO_PASSWORD
from support.extensions import db
from tests.conftest import play_timeline

from .conftest import log_in

SHOTS = Path("/tmp/shots/foureyes")


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    page.set_viewport_size({"width": 1366, "height": 768})


def _big_request(live_server) -> tuple[int, str]:
    """A one-address request of the demo customer, "big" because the threshold is 0; and a
    second agent to confirm it."""
    with live_server.app.app_context():
        people = {u.email: u for u in db.session.scalars(sa.select(User))}
        customer, manager = people["customer@demo.test"], people["manager@demo.test"]
        db.session.add(
            User(
                email="second.agent@demo.test",
                name="Sam Second",
                role=Role.agent,
                password_hash=hash_password(DEMO_PASSWORD),
            )
        )
        set_second_review_threshold(db.session, 0, Actor(ActorKind.manager, manager.id), now_utc())
        db.session.commit()
        req = play_timeline(db.session, customer, [(now_utc(), "file", customer)])
        found = req.id, req.number
        db.session.remove()
    return found


def _read(live_server, request_id: int) -> tuple[RequestState, set]:
    with live_server.app.app_context():
        req = db.session.get(ConsentRequest, request_id)
        statuses = set(
            db.session.scalars(
                sa.select(EmailAddress.status).where(
                    EmailAddress.account_id == req.account_id,
                    EmailAddress.address.like("tl%@timeline.example"),
                )
            )
        )
        found = req.state, statuses
        db.session.remove()
    return found


def _tick_everything(page) -> None:
    for box in page.get_by_role("checkbox", name=re.compile("^Checked")).all():
        box.check()


def test_agent_a_approves_a_big_request_and_agent_b_confirms_it(page, live_server):
    request_id, number = _big_request(live_server)

    # Agent A claims it; the approve button says a second review follows.
    log_in(page, live_server, "agent@demo.test")
    page.goto(f"{live_server.url}/desk/requests/{request_id}")
    page.get_by_role("button", name="Claim for review").click()
    expect(page.get_by_text(f"You claimed {number}.")).to_be_visible()
    expect(page.locator("#second-review-needed")).to_contain_text("another agent confirms")
    _tick_everything(page)
    page.get_by_role("button", name="Approve for a second review").click()
    page.wait_for_load_state()
    asked = page.get_by_role("button", name="Yes, approve for a second review")
    if asked.count():  # the review page asks once more what approving will do
        asked.click()
    expect(page.get_by_text(f"{number} approved by you; nothing changes")).to_be_visible()
    expect(page.get_by_text("You approved it first")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm and apply")).to_have_count(0)
    assert _read(live_server, request_id) == (
        RequestState.pending_second_review,
        {EmailStatus.non_marketable},
    )
    _shoot(page, "review-pending-first-approver")
    page.get_by_role("button", name=re.compile("Log out|Sign out")).first.click()

    # Agent B finds it in the queue's filter and confirms it, ticking the evidence again.
    log_in(page, live_server, "second.agent@demo.test")
    page.goto(f"{live_server.url}/desk/?state=pending_second_review")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name="Second review", exact=True)).to_be_visible()
    _shoot(page, "review-second-reviewer")
    page.get_by_role("button", name="Confirm and apply").click()
    expect(page.get_by_text("not checked:").first).to_be_visible()  # the checklist again
    _tick_everything(page)
    page.get_by_role("button", name="Confirm and apply").click()
    expect(page.get_by_text(f"{number} confirmed and approved: 1 address changed.")).to_be_visible()
    assert _read(live_server, request_id) == (RequestState.approved, {EmailStatus.single_opt_in})
    expect(page.locator("ol.timeline")).to_contain_text("Approved, waiting for a second review")
    _shoot(page, "review-confirmed")


def test_the_managers_pages_for_second_review_and_one_click_reassignment(page, live_server):
    request_id, number = _big_request(live_server)
    log_in(page, live_server, "agent@demo.test")
    page.goto(f"{live_server.url}/desk/requests/{request_id}")
    page.get_by_role("button", name="Claim for review").click()
    _tick_everything(page)
    page.get_by_role("button", name="Approve for a second review").click()
    page.wait_for_load_state()
    asked = page.get_by_role("button", name="Yes, approve for a second review")
    if asked.count():
        asked.click()
    expect(page.get_by_text("You approved it first")).to_be_visible()
    page.get_by_role("button", name=re.compile("Log out|Sign out")).first.click()

    log_in(page, live_server, "manager@demo.test")
    page.goto(f"{live_server.url}/manager/dashboard")
    waiting = page.locator("#second-review")
    expect(waiting).to_contain_text("Waiting for a second review (1)")
    expect(waiting.get_by_role("link", name=number)).to_be_visible()
    waiting.scroll_into_view_if_needed()
    _shoot(page, "dashboard")
    waiting.get_by_role("link", name=re.compile("Second review above")).click()
    page.get_by_label("Second review above (addresses)").fill("-1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a number from 0 to 100,000,000")).to_be_visible()
    _shoot(page, "approvals-refused")
    page.get_by_label("Second review above (addresses)").fill("25000")
    page.get_by_role("button", name="Save").click()
    expect(
        page.get_by_text("approvals of more than 25,000 addresses need a second agent")
    ).to_be_visible()
    _shoot(page, "approvals")

    # The link an SLA alert carries: a confirm page, then one click reassigns.
    other = _big_request_of_nobody(live_server)
    with live_server.app.app_context():
        agent = db.session.scalar(sa.select(User).where(User.email == "second.agent@demo.test"))
        agent_id = agent.id
        db.session.remove()
    page.goto(f"{live_server.url}/manager/requests/{other}/reassign?to={agent_id}")
    expect(page.get_by_label("Assign to")).to_have_value(str(agent_id))
    _shoot(page, "reassign")
    page.get_by_role("button", name="Reassign").click()
    expect(page.get_by_text("is assigned to Sam Second")).to_be_visible()
    expect(page.locator("ol.timeline")).to_contain_text("Sam Second")


def _big_request_of_nobody(live_server) -> int:
    """One more request of the demo customer, unclaimed."""
    with live_server.app.app_context():
        customer = db.session.scalar(sa.select(User).where(User.email == "customer@demo.test"))
        request_id = play_timeline(db.session, customer, [(now_utc(), "file", customer)]).id
        db.session.remove()
    return request_id
