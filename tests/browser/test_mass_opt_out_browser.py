"""The demo customer opts out a tag, with its preview and confirmation, and sees the result."""

import re

from playwright.sync_api import expect

from .conftest import log_in


def test_customer_opts_out_a_tag_after_preview_and_confirmation(page, live_server):
    log_in(page, live_server, "customer@demo.test")
    page.get_by_role("link", name="Contacts", exact=True).click()  # from the home page
    expect(page.get_by_role("heading", name=re.compile("Contacts"))).to_be_visible()

    page.get_by_label("Tag").select_option(label="Newsletter")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("button", name="Update opt-in/opt-out status").click()

    page.get_by_label("Email 2").check()
    page.get_by_label("Opt out").check()
    page.get_by_role("button", name="Preview").click()
    changing = int(page.locator("#changing-count").inner_text().replace(",", ""))
    assert changing > 0
    expect(page.get_by_text("You cannot undo this yourself.")).to_be_visible()
    skipped = page.get_by_role("table").filter(has_text="Skipped, by reason")
    expect(skipped.get_by_text("Opted out by the recipient")).to_be_visible()
    expect(page.get_by_text("Skipped: Opted out by the recipient").first).to_be_visible()  # listed
    page.screenshot(path="/tmp/shots/mass-opt-out-preview.png", full_page=True)

    # A wrong number is refused next to the field, and nothing changes.
    page.get_by_label("Type the number of addresses to opt out").fill(str(changing + 1))
    page.get_by_role("button", name="Opt out these addresses").click()
    expect(page.get_by_text(f"Type {changing}, the number")).to_be_visible()

    page.get_by_label("Type the number of addresses to opt out").fill(str(changing))
    page.get_by_role("button", name="Opt out these addresses").click()
    # Applied in the background: the batch's page shows the result once the last chunk is in
    # (it follows the progress by itself), and only then offers an undo request.
    expect(page.get_by_role("heading", name=re.compile(r"Mass opt-out #\d+"))).to_be_visible()
    expect(page.get_by_role("button", name="Request undo…")).to_be_visible(timeout=20_000)
    expect(page.locator(".numbers article").first).to_have_text(f"{changing:,}opted out")
    page.screenshot(path="/tmp/shots/mass-opt-out-done.png", full_page=True)

    # The contact list now shows the addresses as opted out by the customer.
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_label("Status").select_option(label="Opted out by you")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("td .st-opted_out_by_user").first).to_be_visible()
