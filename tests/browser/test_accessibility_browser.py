"""Accessibility in Chromium: axe-core finds no serious or critical violation on any page of the
journey, and a keyboard user sees where the focus is on every stop of a key page.

axe-core is vendored in tests/browser/vendor (see its README for the version). The app's CSP
(`script-src 'self'`) refuses an inline `<script>`, so Playwright's add_script_tag cannot put
it into the page; page.evaluate runs it through the DevTools protocol, which no page policy
governs, so the pages are checked under the very policy they are served with.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from requests_queue.campaigns import RecipientLinks
from requests_queue.models import CampaignRecipient, ConsentRequest, Contact, MassAction, User
from requests_queue.now import now_utc
from support.demo_requests import seed_requests
from support.extensions import db

from .conftest import log_in
from .test_csp_browser import _recipient_link

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
MUTE_BADGES = """[...document.querySelectorAll('.badge, td.deadline .level')]
  .some((badge) => !badge.textContent.trim())"""
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ` +
                v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
}"""


def _with_requests(live_server) -> dict[str, int]:
    """Play the demo requests into the live server's database; the ids the pages need."""
    with live_server.app.app_context():
        seed_requests(db.session, now_utc())
        db.session.commit()
        customer = db.session.scalar(sa.select(User).where(User.email == "customer@demo.test"))
        asked = db.session.scalar(
            sa.select(ConsentRequest.id).where(ConsentRequest.account_id == customer.account_id)
            .order_by(ConsentRequest.id.desc())
        )  # fmt: skip
        contact = db.session.scalar(
            sa.select(Contact.id).where(Contact.account_id == customer.account_id).limit(1)
        )
        batch = db.session.scalar(
            sa.select(MassAction.id).where(MassAction.account_id == customer.account_id).limit(1)
        )
    return {"request": asked, "contact": contact, "batch": batch}


def _unsubscribe_link(live_server) -> str:
    """The unsubscribe link of the campaign _recipient_link queued."""
    with live_server.app.app_context():
        token = db.session.scalar(sa.select(CampaignRecipient.unsubscribe_token).limit(1))
    return RecipientLinks(live_server.app.config["SECRET_KEY"], live_server.url).unsubscribe_url(
        token
    )


def _severe_violations(page) -> list[str]:
    """Load axe-core into the page as served (its CSP in force) and run every rule."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    return page.evaluate(RUN_AXE)


def _audit(page, urls: list[str]) -> list[str]:
    """Every serious or critical violation on these pages, one line each, with its page."""
    found = []
    for url in urls:
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        path = "/" + url.split("/", 3)[-1]
        found += [f"{path[:40]}: {violation}" for violation in _severe_violations(page)]
        # A status is told in words, colour only repeats it: no badge without text.
        if page.evaluate(MUTE_BADGES):
            found.append(f"{path[:40]}: a status badge without words")
    return found


def test_axe_runs_under_the_pages_own_policy(page, live_server):
    page.goto(f"{live_server.url}/login")
    assert "script-src 'self'" in page.evaluate(
        "fetch(location.href).then((r) => r.headers.get('content-security-policy'))"
    )
    with pytest.raises(Exception, match="Content Security Policy|Failed"):
        page.add_script_tag(content="window.injected = true")  # an inline script: refused
    assert page.evaluate("window.injected === undefined")
    page.evaluate(AXE)
    assert page.evaluate("typeof axe.run") == "function"


PAGES = {
    "customer@demo.test": [
        "/", "/contacts", "/contacts/{contact}", "/imports", "/imports/new", "/mass-actions",
        "/mass-actions/new?status=non_marketable&direction=opt_out&fields=email",
        "/mass-actions/{batch}", "/requests/new/opt-in?status=non_marketable&fields=email",
        "/requests", "/requests/{request}", "/campaigns", "/campaigns/new", "/account",
    ],
    "agent@demo.test": ["/", "/desk/", "/desk/requests/{request}", "/desk/shift"],
    "manager@demo.test": [
        "/", "/manager/dashboard", "/manager/calendar", "/manager/users", "/manager/outbox",
        "/manager/system", "/manager/calendar/agents",
    ],
}  # fmt: skip


@pytest.mark.parametrize("email", list(PAGES))
def test_no_serious_or_critical_violations_on_the_journey(page, live_server, email):
    ids = _with_requests(live_server)
    log_in(page, live_server, email)
    urls = [live_server.url + path.format(**ids) for path in PAGES[email]]
    found = _audit(page, urls)
    assert not found, "\n".join(found)


def test_no_serious_or_critical_violations_for_recipients_or_at_login(page, live_server):
    confirm = _recipient_link(live_server)
    found = _audit(page, [f"{live_server.url}/login", confirm, _unsubscribe_link(live_server)])
    assert not found, "\n".join(found)


# Whether the focused element shows a ring (an outline of 2 px or more) and is big enough to see.
FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const ring = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
  const box = el.getBoundingClientRect();
  const pressed = el.tagName === "INPUT" && ["submit", "button"].includes(el.type) && el.value;
  return {name: (el.getAttribute("aria-label") || pressed || el.textContent || el.name || el.id
                 || el.tagName)
            .trim().slice(0, 40),
          ring, visible: box.width > 4 && box.height > 4};
}"""


@pytest.mark.parametrize(
    ("email", "path", "action"),
    [
        ("agent@demo.test", "/desk/requests/{request}", "Claim"),
        ("customer@demo.test", "/requests/new/opt-in?status=non_marketable&fields=email",
         "File the request"),
    ],
)  # fmt: skip
def test_tabbing_through_a_key_page_always_shows_the_focus(page, live_server, email, path, action):
    ids = _with_requests(live_server)
    log_in(page, live_server, email)
    page.goto(live_server.url + path.format(**ids))
    stops, hidden = [], []
    for _ in range(150):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUS_SHOWN)
        if stop is None:
            break
        stops.append(stop["name"])
        if not (stop["ring"] and stop["visible"]):
            hidden.append(stop["name"])
    assert hidden == []
    # The skip link comes first, and the page's own actions are reached, not only the menu.
    assert stops[0] == "Skip to content"
    assert any(action in name for name in stops), stops


def test_no_serious_or_critical_violations_where_errors_are_shown(page, live_server):
    """A refused form marks its fields invalid and says why next to them: still accessible."""
    log_in(page, live_server, "customer@demo.test")
    page.goto(f"{live_server.url}/requests/new/opt-in?status=non_marketable&fields=email")
    page.get_by_role("button", name=re.compile("File the request", re.I)).click()
    page.wait_for_load_state()
    assert page.locator(".field-error").count() > 0
    found = _severe_violations(page)
    page.goto(f"{live_server.url}/account")
    page.get_by_label("Current password").fill("wrong password")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_load_state()
    assert page.locator(".field-error").count() > 0
    found += _severe_violations(page)
    assert not found, "\n".join(found)
