"""On a phone-sized screen (390 px) no page is wider than the screen: the menu wraps and wide
tables scroll inside the page, so nobody has to pan the whole page sideways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from requests_queue.models import (
    ApplyState,
    FreezeState,
    MassAction,
    MassActionKind,
    MassActionState,
    RequestApplication,
    RequestFreeze,
    User,
)
from requests_queue.now import now_utc
from requests_queue.statuses import ActorKind
from support.extensions import db
from tests.conftest import play_timeline

from .conftest import log_in

SHOTS = Path("/tmp/shots/in-progress")

PAGES = {
    "customer@demo.test": ["/contacts", "/requests", "/account", "/account/tokens",
                           "/account/webhooks", "/settings/feedback/", "/contacts/1",
                           "/mass-actions/1", "/home", "/mass-actions/1/undo",
                           "/mass-actions/new?status=non_marketable&fields=email&fields=email2"
                           "&direction=opt_in"],
    "agent@demo.test": ["/desk/", "/desk/replies", "/desk/mine"],
    "manager@demo.test": ["/manager/", "/manager/dashboard", "/manager/outbox", "/manager/users",
                          "/manager/system", "/manager/calendar/agents", "/desk/shift",
                          "/manager/approvals"],
}  # fmt: skip


@pytest.mark.parametrize("email", list(PAGES))
def test_no_page_is_wider_than_a_phone(page, live_server, email):
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, live_server, email)
    wider = {}
    for path in PAGES[email]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wider[path] = width
    assert wider == {}


def _in_progress(live_server) -> dict[str, list[str]]:
    """A mass opt-out, a large approval and a large filing, each half done, as their runs in
    another process leave them (the heartbeat fresh, so no page resumes them): the pages of
    each, by who sees them. The counts are a million, the longest the numbers get."""
    now = now_utc()
    with live_server.app.app_context():
        session = db.session
        customer = session.scalar(sa.select(User).where(User.email == "customer@demo.test"))
        agent = session.scalar(sa.select(User).where(User.email == "agent@demo.test"))
        batch = MassAction(
            account_id=customer.account_id,
            user_id=customer.id,
            kind=MassActionKind.opt_out,
            selection="all contacts",
            fields="email,email2",
            state=MassActionState.applying,
            expected_count=1_000_000,
            changed_count=412_345,
            heartbeat_at=now,
            created_at=now,
        )
        session.add(batch)
        approved = play_timeline(
            session,
            customer,
            [(now, "file", customer), (now, "claim", agent), (now, "approve", agent)],
        )
        approved.address_count = 1_000_000
        application = session.get(RequestApplication, approved.id) or RequestApplication(
            id=approved.id, created_at=now, actor_kind=ActorKind.agent, actor_user_id=agent.id
        )
        application.state, application.processed_count = ApplyState.applying, 412_345
        application.heartbeat_at, application.finished_at = now, None
        session.add(application)
        filed = play_timeline(session, customer, [(now, "file", customer)])
        freeze = session.get(RequestFreeze, filed.id) or RequestFreeze(id=filed.id, created_at=now)
        freeze.state, freeze.expected_count, freeze.frozen_count = (
            FreezeState.freezing,
            1_000_000,
            412_345,
        )
        freeze.heartbeat_at, freeze.finished_at = now, None
        session.add(freeze)
        session.commit()
        pages = {
            "customer@demo.test": [f"/mass-actions/{batch.id}", f"/requests/{approved.id}",
                                   f"/requests/{filed.id}"],
            "agent@demo.test": [f"/desk/requests/{approved.id}", f"/desk/requests/{filed.id}"],
        }  # fmt: skip
        db.session.remove()
    return pages


@pytest.mark.parametrize("email", ["customer@demo.test", "agent@demo.test"])
def test_work_in_progress_fits_a_phone_with_a_named_bar_and_its_percent(page, live_server, email):
    pages = _in_progress(live_server)[email]
    log_in(page, live_server, email)
    SHOTS.mkdir(parents=True, exist_ok=True)
    wider = {}
    for path in pages:
        name = path.strip("/").replace("/", "-")
        for width, height in ((1280, 800), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
            # The bar is named by its label, which shows the count and the percent: the
            # percent inside <progress> is only its fallback, never drawn.
            bar = page.get_by_role(
                "progressbar", name=re.compile(r"^412,345 of 1,000,000 addresses .*\(41%\)$")
            )
            expect(bar).to_be_visible()
            box = bar.bounding_box()
            assert box["width"] >= 100 and box["x"] + box["width"] <= width, (path, width, box)
            shown = page.locator("section[data-progress-url]")
            expect(shown).to_contain_text("(41%)", use_inner_text=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wider[path] = width
    assert wider == {}
