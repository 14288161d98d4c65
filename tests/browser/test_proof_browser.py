"""Proof of consent in Chromium: the recipient confirms and later unsubscribes in their own
browser; the customer downloads the address's proof from its history page and finds both
clicks with the browser's IP address and user agent and the text of the email."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from requests_queue.campaigns import RecipientLinks, provided_content
from requests_queue.models import CampaignRecipient, EmailAddress, EmailField, User
from requests_queue.now import now_utc
from requests_queue.proof import HEADER
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from support.extensions import db
from tests.campaign_queue import queue_campaign

from .conftest import log_in


def _send_confirmation(live_server) -> CampaignRecipient:
    """Queue a confirmation to one of the demo's single opt-in addresses."""
    with live_server.app.app_context():
        address = db.session.scalar(
            sa.select(EmailAddress)
            .where(
                EmailAddress.status == EmailStatus.single_opt_in,
                EmailAddress.field == EmailField.email,
            )
            .order_by(EmailAddress.id)
        )
        customer = db.session.scalar(sa.select(User).where(User.email == "customer@demo.test"))
        links = RecipientLinks("browser-test-secret", live_server.url)
        queue_campaign(
            db.session,
            ContactFilter(address.account_id, search=address.address),
            (EmailField.email,),
            provided_content(),
            Actor(ActorKind.customer, customer.id),
            now_utc(),
            links,
        )
        db.session.commit()
        recipient = db.session.scalar(
            sa.select(CampaignRecipient).where(CampaignRecipient.address_id == address.id)
        )
        db.session.expunge(recipient)
        return recipient


def test_the_customer_downloads_proof_of_the_recipients_own_clicks(page, browser, live_server):
    recipient = _send_confirmation(live_server)
    person = browser.new_context(viewport={"width": 390, "height": 800})
    try:
        tab = person.new_page()
        agent = tab.evaluate("navigator.userAgent")
        tab.goto(f"{live_server.url}/r/confirm/{recipient.confirm_token}")
        tab.get_by_role("button", name="Yes, keep sending me emails").click()
        expect(tab.get_by_role("heading", name="You're confirmed")).to_be_visible()
        tab.goto(f"{live_server.url}/r/unsubscribe/{recipient.unsubscribe_token}")
        tab.get_by_role("button", name="Unsubscribe").click()
        expect(tab.get_by_role("heading", name="You're unsubscribed")).to_be_visible()
    finally:
        person.close()

    log_in(page, live_server, "customer@demo.test")
    page.goto(f"{live_server.url}/addresses/{recipient.address_id}")
    proof = page.get_by_role("link", name=f"Proof of consent of {recipient.address} as CSV")
    expect(proof).to_be_visible()
    with page.expect_download() as download:
        proof.click()
    assert download.value.suggested_filename == (
        f"proof-of-consent-address-{recipient.address_id}.csv"
    )
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = [dict(zip(HEADER, r, strict=True)) for r in list(csv.reader(io.StringIO(text)))[1:]]
    confirmed, left = rows[-2:]
    assert (confirmed["to_status"], left["to_status"]) == (
        "double_opt_in",
        "opted_out_by_recipient",
    )
    for row in (confirmed, left):
        assert (row["client_ip"], row["user_agent"]) == ("127.0.0.1", agent)
        assert "You are on the mailing list of Demo Co." in row["email_text"]
        assert f"{live_server.url}/r/confirm/…" in row["email_text"]
        assert recipient.confirm_token not in row["email_text"]
        assert row["email_subject"] == "Please confirm you want to keep hearing from Demo Co"

    # The same history as JSON, from the contact list's selection of this address.
    page.goto(f"{live_server.url}/contacts?q={recipient.address}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export proof of consent as JSON").click()
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    [address] = [a for a in document["addresses"] if a["address_id"] == recipient.address_id]
    assert [e["to_status"] for e in address["events"]][-2:] == [
        "double_opt_in",
        "opted_out_by_recipient",
    ]
