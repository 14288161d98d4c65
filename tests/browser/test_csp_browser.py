"""The Content-Security-Policy in Chromium: pages render, scripts run, nothing is refused."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from requests_queue.campaigns import RecipientLinks, provided_content
from requests_queue.models import CampaignRecipient, EmailField, User
from requests_queue.now import now_utc
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from support.extensions import db
from tests.campaign_queue import queue_campaign

from .conftest import log_in

# Chromium reports each refusal both ways: a console error naming the policy, and a
# securitypolicyviolation event (collected by this script, which the page's CSP cannot block).
COLLECT = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI || "inline"}`));
"""


def _watch(page) -> list[str]:
    """Start collecting what the browser refused or failed to run on this tab."""
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda error: refused.append(f"script error: {error}"))
    page.add_init_script(COLLECT)
    return refused


def _visit(page, refused: list[str], url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == [], url
    assert refused == [], url


def _recipient_link(live_server) -> str:
    """A confirmation for one of Demo Co's single opt-in addresses, as its recipient got it."""
    app = live_server.app
    with app.app_context():
        customer = db.session.scalar(sa.select(User).where(User.email == "customer@demo.test"))
        flt = ContactFilter(customer.account_id, status=EmailStatus.single_opt_in)
        links = RecipientLinks(secret=app.config["SECRET_KEY"], base_url=live_server.url)
        actor = Actor(ActorKind.customer, customer.id)
        fields = (EmailField.email,)
        queue_campaign(db.session, flt, fields, provided_content(), actor, now_utc(), links)
        db.session.commit()
        token = db.session.scalar(sa.select(CampaignRecipient.confirm_token).limit(1))
    return links.confirm_url(token)


def test_the_manager_pages_and_the_chart_work_under_the_policy(page, live_server):
    refused = _watch(page)
    _visit(page, refused, f"{live_server.url}/login")
    log_in(page, live_server, "manager@demo.test")
    _visit(page, refused, f"{live_server.url}/manager/dashboard")
    chart = page.locator("#weekly-chart")
    expect(chart).to_be_visible()  # dashboard.js un-hides it once Chart.js has drawn
    assert page.evaluate("Chart.getChart(document.getElementById('weekly-chart')) !== undefined")
    assert chart.bounding_box()["height"] > 100
    # The page's own <style> block applied (it lays the two tables side by side).
    assert page.evaluate("getComputedStyle(document.querySelector('.two')).display") == "grid"
    for path in ("/manager/", "/manager/outbox", "/manager/calendar", "/desk/"):
        _visit(page, refused, live_server.url + path)


def test_customer_and_recipient_pages_work_under_the_policy(page, browser, live_server):
    link = _recipient_link(live_server)
    refused = _watch(page)
    log_in(page, live_server, "customer@demo.test")
    for path in ("/contacts", "/campaigns", "/imports"):
        _visit(page, refused, live_server.url + path)
    # A class that replaced an inline style attribute still lays the header out.
    header = page.locator(".actions.spread").first
    assert header.evaluate("e => getComputedStyle(e).justifyContent") == "space-between"

    recipient = browser.new_context()
    try:
        tab = recipient.new_page()
        refused_there = _watch(tab)
        _visit(tab, refused_there, link)
        expect(tab.get_by_role("button", name="Yes, keep sending me emails")).to_be_visible()
        # The recipient page's <style> block applied: its card is centred, not full width.
        width = tab.evaluate("document.querySelector('main').getBoundingClientRect().width")
        assert width < tab.viewport_size["width"]
    finally:
        recipient.close()
