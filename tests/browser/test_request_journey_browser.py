"""The whole request journey in Chromium: file a mass opt-in, question, answer, approval."""

import re

from playwright.sync_api import expect

from .conftest import log_in

SHOTS = "/tmp/shots"


def _log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def test_customer_files_agent_asks_customer_answers_agent_approves(page, live_server):
    # The customer narrows the contacts to the non-marketable ones and asks to opt them in.
    log_in(page, live_server, "customer@demo.test")
    page.get_by_role("link", name="Contacts", exact=True).click()  # from the home page
    page.get_by_label("Status").select_option(label="Non-marketable")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("button", name="Update opt-in/opt-out status").click()
    page.get_by_label("Opt in").check()
    page.get_by_role("button", name="Preview").click()
    eligible = int(page.locator("#changing-count").inner_text().replace(",", ""))
    assert eligible > 0
    page.get_by_role("button", name=re.compile("Request opt-in of these")).click()

    expect(page.get_by_role("heading", name="Mass opt-in request")).to_be_visible()
    expect(page.locator("#eligible-count")).to_have_text(f"{eligible:,}")
    # "No" to explicit permission stops the filing and explains why.
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_text("This request cannot be filed.")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/request-form-refused.png", full_page=True)

    page.get_by_label("Why are these addresses not opted in now?").fill(
        "They joined through our webinar form, but the CSV import dropped the consent flag."
    )
    page.get_by_label("I have never sent an email to this list").check()
    page.get_by_label("Yes", exact=True).check()
    page.get_by_label("How, when and where was permission obtained?").fill(
        "Webinar sign-up form, March 2026: an unticked box reading 'Send me the newsletter'."
    )
    page.get_by_label("Links to your sign-up forms").fill("https://demo.example/webinar")
    page.get_by_label("Where did the list come from?").select_option(label="Event sign-up")
    page.get_by_label(re.compile("I confirm this list was not purchased")).check()
    page.get_by_role("button", name="File the request").click()

    heading = page.get_by_role("heading", name=re.compile(r"Request R-\d+ filed"))
    expect(heading).to_be_visible()
    number = re.search(r"R-\d+", heading.inner_text()).group(0)
    expect(page.locator("#decision-window")).to_contain_text("3–5 business days")
    page.screenshot(path=f"{SHOTS}/request-filed.png", full_page=True)
    _log_out(page)

    # The agent claims it from the queue and asks a question.
    log_in(page, live_server, "agent@demo.test")
    expect(page.get_by_text("You hold no open request.")).to_be_visible()  # My requests
    page.get_by_role("button", name=re.compile("^Open the queue")).click()
    expect(page.get_by_text("Unassigned (1)").first).to_be_visible()
    page.screenshot(path=f"{SHOTS}/request-queue.png", full_page=True)
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="Claim for review").click()
    expect(page.get_by_text(f"You claimed {number}.")).to_be_visible()
    page.get_by_label("Ask the customer").fill("Was the newsletter box unticked by default?")
    page.get_by_role("button", name="Send the question").click()
    expect(page.get_by_text("It cannot be approved until they answer.")).to_be_visible()
    _log_out(page)

    # The customer answers inline on the request page.
    log_in(page, live_server, "customer@demo.test")
    page.get_by_role("link", name="Requests", exact=True).click()
    expect(page.get_by_text("Answer needed")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/request-list.png", full_page=True)
    page.get_by_role("link", name=number).click()
    expect(page.get_by_text("Was the newsletter box unticked by default?")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/request-awaiting-answer.png", full_page=True)
    page.get_by_label("Your answer").fill("Yes, unticked; people had to tick it themselves.")
    page.get_by_role("button", name="Send the answer").click()
    expect(page.get_by_text("Your answer was sent.")).to_be_visible()
    _log_out(page)

    # The agent checks every piece of evidence and approves.
    log_in(page, live_server, "agent@demo.test")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("link", name="https://demo.example/webinar")).to_have_attribute(
        "rel", "noopener noreferrer"
    )
    page.get_by_role("button", name="Approve and apply").click()
    expect(page.get_by_text("Check every piece of evidence before approving")).to_be_visible()
    for box in page.get_by_role("checkbox", name=re.compile("^Checked")).all():
        box.check()
    page.screenshot(path=f"{SHOTS}/request-review.png", full_page=True)
    page.get_by_role("button", name="Approve and apply").click()
    expect(page.locator("#confirm-what")).to_contain_text("will become single opt-in")
    page.get_by_role("button", name="Yes, approve and apply").click()
    expect(page.get_by_text(f"{number} approved: {eligible:,} addresses changed.")).to_be_visible()
    _log_out(page)

    # The customer sees the result, and the addresses are single opt-in now.
    log_in(page, live_server, "customer@demo.test")
    page.get_by_role("link", name="Requests", exact=True).click()
    page.get_by_role("link", name=number).click()
    expect(page.locator("#changed-count")).to_have_text(f"{eligible:,}")
    page.get_by_text(re.compile("^Changed addresses")).click()
    changed = page.locator("#changed-addresses tbody tr")
    expect(changed).to_have_count(min(eligible, 100))
    expect(changed.locator(".st-single_opt_in")).to_have_count(min(eligible, 100))
    address = changed.first.locator("td").first.inner_text()
    page.screenshot(path=f"{SHOTS}/request-approved.png", full_page=True)

    # The contact list agrees.
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_label("Search name or address").fill(address)
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row").filter(has_text=address)
    expect(row.locator(".st-single_opt_in").first).to_be_visible()  # both fields were opted in
