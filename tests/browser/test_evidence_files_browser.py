"""Evidence files in Chromium: a customer attaches a PNG and a PDF when filing; the agent sees
the image inline on the review page and downloads the PDF, byte for byte."""

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.evidence_samples import pdf, png

from .conftest import log_in

SHOTS = Path("/tmp/shots/files")
IMAGE, DOCUMENT = png(320, 180, (30, 120, 200)), pdf("Webinar consent records")


def _log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _shoot(page, name: str) -> None:
    """Full-page screenshots at a laptop's width and a phone's; the phone's must not overflow."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        assert _fits(page), f"{name} overflows at {width} px"
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def test_customer_attaches_a_png_and_a_pdf_and_the_agent_sees_and_downloads_them(page, live_server):
    log_in(page, live_server, "customer@demo.test")
    page.goto(f"{live_server.url}/requests/new/opt-in?status=non_marketable&fields=email")
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
    # A file that only calls itself a PNG is refused next to the field; nothing is filed.
    page.get_by_label("Files (optional)").set_input_files(
        [{"name": "form.png", "mimeType": "image/png", "buffer": b"PK\x03\x04" + bytes(64)}]
    )
    page.get_by_label(re.compile("I confirm this list was not purchased")).check()
    page.get_by_role("button", name="File the request").click()
    expect(page.locator("#files-help .field-error")).to_have_text(
        "“form.png” is not a PNG, JPEG, PDF or CSV file (judged from its content, not its "
        "name). Save it as one of these and attach it again"
    )
    expect(page.get_by_label("Files (optional)")).to_have_attribute("aria-invalid", "true")
    page.locator("#files").scroll_into_view_if_needed()
    _shoot(page, "filing-form-refused")
    page.get_by_label("Files (optional)").set_input_files(
        [
            {"name": "webinar form.png", "mimeType": "image/png", "buffer": IMAGE},
            {"name": "consent records.pdf", "mimeType": "application/pdf", "buffer": DOCUMENT},
        ]
    )
    expect(page.get_by_label(re.compile("I confirm this list was not purchased"))).to_be_checked()
    _shoot(page, "filing-form")
    page.get_by_role("button", name="File the request").click()
    heading = page.get_by_role("heading", name=re.compile(r"Request R-\d+ filed"))
    expect(heading).to_be_visible()
    request_id = int(re.search(r"R-(\d+)", heading.inner_text()).group(1))

    # The customer finds both files on the request's page.
    page.goto(f"{live_server.url}/requests/{request_id}")
    files = page.locator("section[aria-labelledby=files-title]")
    expect(files.get_by_role("link", name="consent records.pdf")).to_be_visible()
    expect(files.get_by_role("img")).to_be_visible()
    _shoot(page, "customer-request")
    _log_out(page)

    log_in(page, live_server, "agent@demo.test")
    page.goto(f"{live_server.url}/desk/requests/{request_id}")
    image = page.locator("section[aria-labelledby=files-title] img")
    expect(image).to_be_visible()
    # Loaded through the desk's own URL and decoded as the picture that was sent.
    assert image.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]") == [
        True,
        320,
        180,
    ]
    _shoot(page, "agent-review")
    with page.expect_download() as download:
        page.get_by_role("link", name="consent records.pdf").click()
    assert download.value.suggested_filename == "consent records.pdf"
    assert Path(download.value.path()).read_bytes() == DOCUMENT
