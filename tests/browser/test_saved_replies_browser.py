"""The agent's day in Chromium: a saved reply picked in the ask form, edited and sent; then two
requests claimed at once from the queue. And a rejection reply used with JavaScript off."""

import re
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from requests_queue.models import ConsentRequest, ReplyPurpose, User
from requests_queue.now import now_utc
from requests_queue.requests.saved_replies import ReplyInput, create_reply
from support.extensions import db
from tests.conftest import actor_of, play_timeline

from .conftest import log_in

SHOTS = Path("/tmp/shots/replies")


def _file_requests(live_server, n: int) -> list[str]:
    """`n` one-address mass opt-in requests of the demo customer, oldest first."""
    with live_server.app.app_context():
        customer = db.session.scalar(sa.select(User).where(User.email == "customer@demo.test"))
        customer.name = "Dana <Demo>"
        numbers = [play_timeline(db.session, customer, [(now_utc(), "file", customer)]).number
                   for _ in range(n)]  # fmt: skip
        db.session.remove()
    return numbers


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def test_agent_uses_a_saved_reply_then_bulk_claims_two(page, live_server):
    first, second, third = _file_requests(live_server, 3)
    log_in(page, live_server, "agent@demo.test")

    # A personal saved reply; a misspelt placeholder is refused next to the text.
    page.goto(f"{live_server.url}/desk/replies")
    page.get_by_label("Title").fill("Which sign-up form?")
    page.get_by_label("Offered on").select_option(label="Question to the customer")
    text = page.get_by_label("Text", exact=True)
    text.fill("Hello {customer}, which form?")
    page.get_by_role("button", name="Save the reply").click()
    expect(page.locator("#body-help")).to_contain_text("Unknown placeholder {customer}")
    page.get_by_label("Text", exact=True).fill(
        "Hello {customer_name}, about {request_number}: please send {missing_evidence}."
    )
    page.get_by_role("button", name="Save the reply").click()
    expect(page.get_by_text("Saved “Which sign-up form?”.")).to_be_visible()
    _shoot(page, "saved-replies")

    # Claim the first request, tick what is fine, and pick the reply in the ask form.
    page.goto(f"{live_server.url}/desk/")
    page.get_by_role("button", name=f"Claim {first}").click()
    expect(page.get_by_text(f"You claimed {first}.")).to_be_visible()
    review_url = page.url
    for box in page.get_by_role("checkbox", name=re.compile("^Checked")).all():
        box.check()
    page.get_by_role("checkbox", name=re.compile("^Checked.*Sign-up form links")).uncheck()
    page.get_by_role("combobox", name="Saved reply").last.select_option(
        label="Mine · Which sign-up form?"
    )
    page.get_by_role("button", name="Use").last.click()
    question = page.get_by_label("Ask the customer")
    expect(question).to_have_value(
        f"Hello Dana <Demo>, about {first}: please send Sign-up form links."
    )
    assert page.url == review_url  # filled in place: the ticks and the page stay as they were
    expect(
        page.get_by_role("checkbox", name=re.compile("^Checked.*Why not opted in now"))
    ).to_be_checked()
    _shoot(page, "review-reply-filled")
    question.press("End")
    question.type(" A screenshot is fine.")
    page.get_by_role("button", name="Send the question").click()
    expect(page.get_by_text("The question was sent")).to_be_visible()
    expect(
        page.get_by_text(
            f"Hello Dana <Demo>, about {first}: please send Sign-up form links. "
            "A screenshot is fine."
        )
    ).to_be_visible()

    # Back on the queue: tick the other two and claim them at once.
    page.get_by_role("link", name="← Queue").click()
    page.get_by_label(f"Select {second}").check()
    page.get_by_label(f"Select {third}").check()
    expect(page.get_by_label("With the selected requests")).to_have_value("claim")
    _shoot(page, "queue-bulk")
    page.get_by_role("button", name="Apply to the selected").click()
    expect(page.get_by_text("2 requests claimed.")).to_be_visible()
    for number in (second, third):
        row = page.get_by_role("row").filter(has_text=number)
        expect(row).to_contain_text(re.compile(r"In review\s*Agent"))

    # "Select all on this page" ticks every box.
    page.get_by_label("Select all on this page").check()
    boxes = page.locator("input[name=selected]")
    expect(boxes).to_have_count(3)
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()
    page.get_by_label("Search").fill(second)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("input[name=selected]")).to_have_count(1)
    _shoot(page, "queue-search")


def test_without_javascript_use_fills_the_rejection_and_keeps_the_reason(browser, live_server):
    with live_server.app.app_context():
        customer = db.session.scalar(sa.select(User).where(User.email == "customer@demo.test"))
        agent = db.session.scalar(sa.select(User).where(User.email == "agent@demo.test"))
        req = play_timeline(
            db.session, customer, [(now_utc(), "file", customer), (now_utc(), "claim", agent)]
        )
        body = "Sorry, {request_number} lacks {missing_evidence}."
        reply = ReplyInput("Links missing", body, ReplyPurpose.rejection)
        create_reply(db.session, reply, actor_of(agent), now_utc())
        db.session.commit()
        request_id, number = req.id, req.number
        db.session.remove()
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, live_server, "agent@demo.test")
        page.goto(f"{live_server.url}/desk/requests/{request_id}")
        for box in page.get_by_role("checkbox", name=re.compile("^Checked")).all():
            box.check()
        page.get_by_role("checkbox", name=re.compile("^Checked.*Sign-up form links")).uncheck()
        reason = page.get_by_label("Reason")
        reason.select_option(label="The list looks purchased, rented, shared or harvested")
        message = page.get_by_label("Message to the customer")
        message.fill("My own draft")
        page.get_by_label("Ask the customer").fill("Which form did they sign?")
        page.get_by_role("combobox", name="Saved reply").first.select_option(
            label="Mine · Links missing"
        )
        page.get_by_role("button", name="Use").first.click()
        page.wait_for_load_state()
        expect(message).to_have_value(f"Sorry, {number} lacks Sign-up form links.")
        expect(reason).to_have_value("third_party_list")
        expect(page.get_by_label("Ask the customer")).to_have_value("Which form did they sign?")
        expect(
            page.get_by_role("checkbox", name=re.compile("^Checked.*Why not opted in now"))
        ).to_be_checked()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "review-no-js-used-390.png"), full_page=True)
        with live_server.app.app_context():
            assert db.session.get(ConsentRequest, request_id).state.value == "in_review"
            db.session.remove()
        message.press("Control+End")
        message.type(" Please file again.")
        page.get_by_role("button", name="Reject").click()
        expect(page.get_by_text(f"{number} rejected; the customer is told why.")).to_be_visible()
        with live_server.app.app_context():
            done = db.session.get(ConsentRequest, request_id)
            assert done.reject_reason.value == "third_party_list"
            assert done.decision_message == (
                f"Sorry, {number} lacks Sign-up form links. Please file again."
            )
            db.session.remove()
    finally:
        context.close()
