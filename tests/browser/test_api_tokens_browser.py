"""A customer creates an API token on the settings page and a script uses it; the API
reference renders under the Content-Security-Policy."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import sqlalchemy as sa
from playwright.sync_api import expect

from requests_queue.models import EmailAddress, User
from support.extensions import db

from .conftest import log_in

COLLECT = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI || "inline"}`));
"""


def _demo_address(live_server) -> EmailAddress:
    with live_server.app.app_context():
        customer = db.session.scalar(sa.select(User).where(User.email == "customer@demo.test"))
        return db.session.scalar(
            sa.select(EmailAddress)
            .where(EmailAddress.account_id == customer.account_id)
            .order_by(EmailAddress.id)
            .limit(1)
        )


def _call(url: str, token: str) -> tuple[int, dict]:
    """What a customer's own script does: a plain HTTP GET with the bearer token."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (127.0.0.1)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_a_token_made_on_the_settings_page_works_from_a_script(page, live_server):
    address = _demo_address(live_server)
    log_in(page, live_server, "customer@demo.test")
    page.locator("li.who a").click()  # the name in the header: the account page
    page.get_by_role("link", name="create, see and revoke your tokens").click()
    page.get_by_label("Name").fill("Sending pipeline")
    page.get_by_label("Read only (send-time checks, lists, requests)").check()
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text()
    assert token.startswith("cdk_")
    expect(page.get_by_role("cell", name="Sending pipeline", exact=True)).to_be_visible()

    status, body = _call(f"{live_server.url}/api/v1/addresses/{address.address}", token)
    assert status == 200
    assert body["address"] == address.address and body["status"] == address.status.value

    page.goto(f"{live_server.url}/account/tokens")
    assert token not in page.content()  # shown once
    page.get_by_role("button", name="Revoke Sending pipeline").click()
    expect(page.get_by_text("is revoked")).to_be_visible()
    status, body = _call(f"{live_server.url}/api/v1/addresses/{address.address}", token)
    assert status == 401 and body["status"] == 401


def test_the_api_reference_renders_under_the_policy(page, live_server):
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda error: refused.append(f"script error: {error}"))
    page.add_init_script(COLLECT)
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_role("heading", name="Consent Desk API")).to_be_visible()
    expect(page.get_by_text("/api/v1/addresses/lookup").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == []
    assert refused == []
