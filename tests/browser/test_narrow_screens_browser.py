"""On a phone-sized screen (390 px) no page is wider than the screen: the menu wraps and wide
tables scroll inside the page, so nobody has to pan the whole page sideways."""

from __future__ import annotations

import pytest

from .conftest import log_in

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
