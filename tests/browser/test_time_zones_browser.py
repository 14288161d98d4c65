"""Time zones in Chromium: the first login takes the browser's zone (a static script fills the
login form under the CSP), pages name it, deadlines show team time too, and the account page
changes it."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from requests_queue.models import User
from requests_queue.now import now_utc
from support.demo_requests import seed_requests
from support.extensions import db

from .conftest import log_in


def _zone_of(live_server, email: str) -> str | None:
    with live_server.app.app_context():
        return db.session.scalar(sa.select(User.time_zone).where(User.email == email))


def test_a_customer_in_berlin_sees_berlin_time_and_the_team_time(browser, live_server):
    with live_server.app.app_context():
        seed_requests(db.session, now_utc())
        db.session.commit()
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, timezone_id="Europe/Berlin"
    )
    page = context.new_page()
    try:
        assert _zone_of(live_server, "customer@demo.test") is None
        log_in(page, live_server, "customer@demo.test")
        assert _zone_of(live_server, "customer@demo.test") == "Europe/Berlin"
        page.goto(f"{live_server.url}/requests")
        filed = page.locator("table tbody tr td:nth-child(5)").first
        expect(filed).to_have_text(re.compile(r"\d+ \w{3} 2026, \d\d:\d\d CET"))
        page.locator("table tbody a").first.click()
        window = page.locator("#decision-window")
        expect(window).to_contain_text("CET (")
        expect(window).to_contain_text("MST team time)")

        # The account page shows the zone and changes it; the pages follow.
        page.goto(f"{live_server.url}/account")
        select = page.get_by_label("Your time zone")
        expect(select).to_have_value("Europe/Berlin")
        select.select_option("Asia/Tokyo")
        page.get_by_role("button", name="Save time zone").click()
        expect(page.get_by_role("status")).to_contain_text("Times are now shown in Asia/Tokyo")
        assert _zone_of(live_server, "customer@demo.test") == "Asia/Tokyo"
        page.goto(f"{live_server.url}/requests")
        expect(filed).to_have_text(re.compile(r"\d\d:\d\d JST"))
    finally:
        context.close()


def test_a_later_login_from_another_zone_keeps_the_chosen_one(browser, live_server):
    for zone in ("America/New_York", "Asia/Tokyo"):
        context = browser.new_context(timezone_id=zone)
        page = context.new_page()
        log_in(page, live_server, "agent@demo.test")
        context.close()
    assert _zone_of(live_server, "agent@demo.test") == "America/New_York"
