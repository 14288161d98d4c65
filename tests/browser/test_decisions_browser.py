"""Decisions that cannot be taken by accident, homes that say what needs doing, previews that
list what a filter picked (issue 14, items 2, 3, 4, 9 and 12), done as people do them."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from requests_queue.models import ConsentRequest, RequestState, User
from requests_queue.now import now_utc
from support.extensions import db
from tests.conftest import play_timeline

from .conftest import log_in

SHOTS = Path("/tmp/shots")


def _request(live_server, *steps: str) -> tuple[int, str]:
    """A one-address opt-in of Demo Co filed an hour ago, then `steps` by the demo agent."""
    with live_server.app.app_context():
        session = db.session
        customer = session.scalar(sa.select(User).where(User.email == "customer@demo.test"))
        agent = session.scalar(sa.select(User).where(User.email == "agent@demo.test"))
        start = now_utc() - timedelta(hours=len(steps) + 1)
        timeline = [(start, "file", customer)]
        timeline += [(start + timedelta(hours=i + 1), s, agent) for i, s in enumerate(steps)]
        req = play_timeline(session, customer, timeline, base_url=live_server.url)
        return req.id, req.number


def _state(live_server, request_id: int) -> RequestState:
    with live_server.app.app_context():
        return db.session.get(ConsentRequest, request_id).state


def _shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _fits_a_phone(page) -> None:
    """At 390 px the page is no wider than the screen; then back to the laptop size."""
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1366, "height": 768})


def test_approving_asks_once_more_with_what_will_happen(page, live_server):
    request_id, number = _request(live_server, "claim")
    log_in(page, live_server, "agent@demo.test")
    expect(page.get_by_role("heading", name=re.compile("^My requests"))).to_be_visible()
    page.get_by_role("link", name=number).click()

    # Nothing ticked: refused, the reason beside the button, and the URL reloads as a page.
    page.get_by_role("button", name="Approve and apply").click()
    refusal = page.locator("#approve-form #approve-refusal")
    expect(refusal).to_contain_text("Check every piece of evidence before approving")
    assert page.url.endswith("/approve#decide")  # the decision box comes into view
    response = page.goto(page.url.split("#")[0])  # opened again later: a GET of …/approve
    assert response.status == 200 and page.url.endswith(f"/desk/requests/{request_id}")

    # "All checked" ticks every box, and every box is still there to see.
    boxes = page.get_by_role("checkbox", name=re.compile("^Checked"))
    page.get_by_label("All checked").check()
    for box in boxes.all():
        expect(box).to_be_visible()
        expect(box).to_be_checked()
    boxes.first.uncheck()
    expect(page.get_by_label("All checked")).not_to_be_checked()
    page.get_by_label("All checked").check()

    page.get_by_role("button", name="Approve and apply").click()
    expect(page.locator("#confirm-what")).to_have_text(
        re.compile(r"^1 address will become single opt-in\.")
    )
    _shot(page, "approve-confirm")
    _fits_a_phone(page)
    assert page.url.endswith("#decide")  # on a phone too, the question is where the eye lands
    assert _state(live_server, request_id) is RequestState.in_review  # nothing happened yet
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Approve and apply")).to_be_visible()
    assert _state(live_server, request_id) is RequestState.in_review

    page.get_by_label("All checked").check()
    page.get_by_role("button", name="Approve and apply").click()
    page.get_by_role("button", name="Yes, approve and apply").click()
    expect(page.locator(".flash.success")).to_contain_text(f"{number} approved")
    assert _state(live_server, request_id) is RequestState.approved


def test_all_checked_works_without_javascript(browser, live_server):
    request_id, number = _request(live_server, "claim")
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1366, "height": 768}
    )
    page = context.new_page()
    log_in(page, live_server, "agent@demo.test")
    page.goto(f"{live_server.url}/desk/requests/{request_id}")
    page.get_by_label("All checked").check()
    page.get_by_role("button", name="Approve and apply").click()
    expect(page.locator("#confirm-what")).to_contain_text("1 address will become single opt-in")
    page.get_by_role("button", name="Yes, approve and apply").click()
    expect(page.locator(".flash.success")).to_contain_text(f"{number} approved")
    context.close()
    assert _state(live_server, request_id) is RequestState.approved


def test_withdrawing_asks_first_and_keeping_it_changes_nothing(page, live_server):
    request_id, number = _request(live_server)
    log_in(page, live_server, "customer@demo.test")
    page.goto(f"{live_server.url}/requests/{request_id}")
    page.get_by_role("button", name="Withdraw the request…").click()
    expect(page.get_by_role("heading", name=f"Withdraw request {number}?")).to_be_visible()
    _shot(page, "withdraw-confirm")
    _fits_a_phone(page)
    page.get_by_role("button", name="Keep the request").click()
    assert _state(live_server, request_id) is RequestState.submitted
    page.get_by_role("button", name="Withdraw the request…").click()
    page.get_by_role("button", name=f"Yes, withdraw {number}").click()
    expect(page.get_by_text(f"Request {number} is withdrawn.")).to_be_visible()
    assert _state(live_server, request_id) is RequestState.withdrawn


def test_a_customer_starts_from_the_question_waiting_for_them(page, live_server):
    request_id, number = _request(live_server, "claim", "ask")
    log_in(page, live_server, "customer@demo.test")
    expect(page.get_by_role("heading", name=re.compile("^Waiting for your answer"))).to_be_visible()
    expect(page.get_by_text("Created 0")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"\d+ created · 0 updated"))).to_have_count(2)
    _shot(page, "customer-home")
    page.get_by_role("button", name=f"Answer {number}…").click()
    expect(page.get_by_label("Your answer")).to_be_visible()
    assert page.url.endswith(f"/requests/{request_id}#answer-form")


def test_a_status_filter_previews_exactly_those_addresses(page, live_server):
    log_in(page, live_server, "customer@demo.test")
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_label("Status").select_option(label="Non-marketable")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("button", name="Update opt-in/opt-out status…").click()
    expect(page.get_by_label("Email", exact=True)).to_be_checked()
    expect(page.get_by_label("Email 2")).to_be_checked()  # the second addresses are not left out
    page.get_by_label("Opt in").check()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#skipped-count")).to_have_text("0")
    listed = page.locator("table[aria-labelledby=addresses-title] tbody tr")
    expect(listed.first).to_be_visible()
    for status in listed.locator(".badge").all_inner_texts():
        assert status == "Non-marketable"
    button_width = page.get_by_role("button", name="Preview").bounding_box()["width"]
    assert button_width < 300  # as wide as its word, not the page
    _shot(page, "preview-addresses")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("^Download all")).click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    total = page.locator("#changing-count").inner_text()
    assert len(rows) - 1 == int(total.replace(",", ""))
    assert {r[4] for r in rows[1:]} == {"Non-marketable"}


def test_an_undone_batch_points_to_its_request(page, live_server):
    log_in(page, live_server, "customer@demo.test")
    page.get_by_role("link", name="Mass actions", exact=True).click()
    page.get_by_role("link", name=re.compile("Mass opt-out")).first.click()
    page.get_by_role("button", name="Request undo…").click()
    expect(page.get_by_label("Why should this mass opt-out be undone?")).to_be_visible()
    expect(page.get_by_text("Evidence of permission")).to_have_count(0)
    batch_url = page.url.removesuffix("/undo")
    page.get_by_label("Why should this mass opt-out be undone?").fill(
        "The opt-out ran on the wrong tag; these people never asked to leave."
    )
    page.get_by_label("I have never emailed these addresses").check()
    page.get_by_label("Yes").check()
    page.get_by_label("How, when and where was permission obtained?").fill(
        "Each person ticked an unticked newsletter box on our sign-up form in 2025."
    )
    page.get_by_label("Links to your sign-up forms").fill("https://demo.example/newsletter")
    page.get_by_label("Where did the list come from?").select_option(label="Website sign-up form")
    page.get_by_label(re.compile("I confirm this list")).check()
    page.get_by_role("button", name="File the undo request").click()
    number = re.search(r"R-\d{6}", page.content()).group(0)
    page.goto(batch_url)
    expect(page.get_by_role("button", name="Request undo…")).to_have_count(0)
    expect(page.locator("#undo-state").get_by_role("link", name=number)).to_be_visible()
    _shot(page, "undo-requested")


def test_pages_carry_the_icon(page, live_server):
    log_in(page, live_server, "customer@demo.test")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(f"{live_server.url}{href}").ok


def test_the_import_menu_shows_its_whole_choice_on_a_laptop_and_a_phone(page, live_server):
    log_in(page, live_server, "customer@demo.test")
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server.url}/contacts")
        menu = page.get_by_label("Import batch")
        label = menu.locator("option", has_text="webinar-signups").inner_text()
        menu.select_option(label=label)
        fits = menu.evaluate("e => e.scrollWidth <= e.clientWidth")
        width_needed = menu.evaluate(
            "e => { const c = document.createElement('canvas').getContext('2d');"
            " c.font = getComputedStyle(e).font;"
            " return c.measureText(e.options[e.selectedIndex].text).width; }"
        )
        assert fits and width_needed < menu.bounding_box()["width"] - 40, width
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_text(re.compile(r"^Showing [\d,]+ matching contacts\."))).to_be_visible()
    _shot(page, "contacts-filters-phone")
