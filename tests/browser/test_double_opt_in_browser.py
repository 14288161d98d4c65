"""End to end: the customer queues a confirmation campaign, the sender delivers it to a real
SMTP server on loopback, and the recipient confirms from the link in the mail, in Chromium."""

import re
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from requests_queue.mail import deliver_outbox, transport_from_config
from requests_queue.models import EmailAddress, StatusEvent
from requests_queue.statuses import ActorKind, EmailStatus
from support.extensions import db

from .conftest import log_in

SHOTS = Path("/tmp/shots")


def test_a_recipient_confirms_from_the_delivered_email(page, browser, make_live_server, smtp_sink):
    SHOTS.mkdir(exist_ok=True)
    live_server = make_live_server(**smtp_sink.config())

    # The customer starts from the contact list, filtered to single opt-in.
    log_in(page, live_server, "customer@demo.test")
    page.get_by_role("link", name="Contacts", exact=True).click()  # from the home page
    page.get_by_label("Status").select_option(label="Single opt-in")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("button", name="Send double opt-in confirmation").click()
    expect(page.get_by_text("Only for people who already gave you permission.")).to_be_visible()
    eligible = int(page.locator("#eligible-count").inner_text().replace(",", ""))
    assert eligible > 0
    expect(page.get_by_label("Preview of the email")).to_contain_text(
        "Please confirm you want to keep hearing from Demo Co"
    )
    page.screenshot(path=str(SHOTS / "campaign-new.png"), full_page=True)
    page.get_by_role("button", name=re.compile(r"^Send \d+ confirmation")).click()
    expect(page.get_by_text(f"{eligible:,} confirmation emails are being prepared")).to_be_visible()
    # They are written in the background; the page follows by itself until all are queued.
    expect(page.get_by_text(f"{eligible:,} emails are waiting to go out")).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_role("heading", name="Preparing the emails")).to_have_count(0)
    campaign_url = page.url

    # The sender (the scheduler's job) delivers them to the SMTP server.
    with live_server.app.app_context():
        report = deliver_outbox(db.session, transport_from_config(live_server.app.config))
    assert report.sent == eligible == len(smtp_sink.messages)
    mail = smtp_sink.messages[0]
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    link = re.search(rf"{re.escape(live_server.url)}/r/confirm/\S+", mail.text).group(0)

    # The recipient, in their own browser with no session, opens the link.
    recipient = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        tab = recipient.new_page()
        tab.goto(link)
        expect(tab.get_by_role("heading", name=re.compile("keep receiving emails"))).to_be_visible()
        tab.screenshot(path=str(SHOTS / "recipient-confirm.png"), full_page=True)
        tab.get_by_role("button", name="Yes, keep sending me emails").click()
        expect(tab.get_by_role("heading", name="You're confirmed")).to_be_visible()
        tab.screenshot(path=str(SHOTS / "recipient-confirmed.png"), full_page=True)
        # The link works once.
        tab.goto(link)
        expect(tab.get_by_role("heading", name="This link was already used")).to_be_visible()
    finally:
        recipient.close()

    # The address is double opt-in now, with the recipient's click as proof.
    with live_server.app.app_context():
        address = db.session.scalar(
            sa.select(EmailAddress).where(EmailAddress.address == mail.rcpt_tos[0])
        )
        assert address.status is EmailStatus.double_opt_in
        event = db.session.scalars(
            sa.select(StatusEvent)
            .where(StatusEvent.address_id == address.id)
            .order_by(StatusEvent.id.desc())
        ).first()
        assert event.actor_kind is ActorKind.recipient
        assert "IP 127.0.0.1" in event.note and "HeadlessChrome" in event.note

    # The customer sees it in the campaign's numbers.
    page.goto(campaign_url)
    expect(page.locator("#confirmed-count")).to_have_text("1")
    expect(page.locator("#sent-count")).to_have_text(f"{eligible:,}")
    page.screenshot(path=str(SHOTS / "campaign-progress.png"), full_page=True)
