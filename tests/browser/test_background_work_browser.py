"""Work applied in the background, as people watch it in Chromium (issue 11 §1): the page
shows the progress while a run applies an approval, then puts the result in place by itself."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from requests_queue.models import ConsentRequest, RequestApplication, User
from requests_queue.now import now_utc
from requests_queue.requests.applying import run_approval
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.statuses import Actor, ActorKind, EventChannel
from support.extensions import db
from tests.conftest import play_timeline

from .conftest import log_in

SHOTS = Path("/tmp/shots")


def test_the_review_page_follows_an_approval_applied_in_the_background(page, live_server):
    app = live_server.app
    with app.app_context():
        session = db.session
        customer = session.scalar(sa.select(User).where(User.email == "customer@demo.test"))
        agent = session.scalar(sa.select(User).where(User.email == "agent@demo.test"))
        req = play_timeline(
            session, customer, [(now_utc(), "file", customer), (now_utc(), "claim", agent)]
        )
        # The click decided it; the run that applies it belongs to another process for now.
        approve_request(
            session,
            req,
            Actor(ActorKind.agent, agent.id, EventChannel.web),
            now_utc(),
            checklist=[key for key, _ in CHECKLIST],
            base_url=live_server.url,
            inline_max=0,
        )
        session.get(RequestApplication, req.id).heartbeat_at = now_utc()
        session.commit()
        request_id, number = req.id, req.number

    log_in(page, live_server, "agent@demo.test")
    page.goto(f"{live_server.url}/desk/requests/{request_id}")
    expect(page.get_by_role("heading", name="Applying the approval…")).to_be_visible()
    expect(page.get_by_label("0 of 1 addresses done")).to_be_visible()  # the progress bar
    page.screenshot(path=str(SHOTS / "approval-applying.png"), full_page=True)

    later = lambda: now_utc() + timedelta(minutes=1)  # noqa: E731  (the other process went quiet)
    with app.app_context():
        assert run_approval(db.engine, request_id, live_server.url, later) is not None
    # progress.js sees it done and puts the page's fresh content in place, no reload needed.
    expect(page.get_by_role("heading", name="Applying the approval…")).to_be_hidden()
    expect(page.get_by_text("1 changed, 0 skipped.")).to_be_visible()
    page.screenshot(path=str(SHOTS / "approval-applied.png"), full_page=True)
    with app.app_context():
        assert db.session.get(ConsentRequest, request_id).changed_count == 1
    assert number.startswith("R-")
