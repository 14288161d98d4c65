"""The customer's double opt-in pages: preview, write, send, follow; other accounts see nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from requests_queue.campaigns import create_campaign, provided_content
from requests_queue.mail import deliver_outbox
from requests_queue.models import (
    Campaign,
    CampaignRecipient,
    CampaignState,
    EmailField,
    OutboxMessage,
    OutboxState,
)
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind
from tests.background_runs import wait_for_campaigns
from tests.conftest import NOW


@pytest.fixture
def contacts(customer, make_contact):
    """Two single opt-in addresses, one non-marketable, one tagged VIP."""
    make_contact(customer, consent=True, tags=("VIP",), email="ada@acme.example")
    make_contact(customer, consent=True, email="bob@acme.example")
    make_contact(customer, consent=False, email="cy@acme.example")
    return customer


@pytest.fixture
def customer_client(client, contacts):
    client.login(contacts.email)
    return client


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _send(client, query="", **data):
    page = _page(client.get(f"/campaigns/new{query}"))
    expected = re.search(r'name="expected_count" type="hidden" value="(\d+)"', page).group(1)
    form = {"template": "provided", "expected_count": expected, "send": "Send", **data}
    response = client.post(f"/campaigns/new{query}", form)
    wait_for_campaigns()  # the emails are written in the background
    return response


def test_the_contact_list_offers_double_opt_in(customer_client):
    page = _page(customer_client.get("/contacts?q=ada"))
    assert 'href="/campaigns/new?q=ada"' in page
    assert "Send double opt-in confirmation" in page


def test_the_preview_counts_who_gets_one_and_warns_about_permission(customer_client):
    page = _page(customer_client.get("/campaigns/new"))
    assert re.search(r'id="eligible-count">2<', page)
    assert re.search(r'id="skipped-count">1<', page)
    assert "Not marketable: no permission on record" in page
    assert "Only for people who already gave you permission" in page
    # The provided email, rendered with the account's name and stand-in links.
    assert "Please confirm you want to keep hearing from Acme" in page
    assert (
        "http://127.0.0.1:5000/r/confirm/(personal link" in page or "/r/confirm/(personal" in page
    )


def test_the_preview_follows_the_contact_filter(customer_client):
    page = _page(customer_client.get("/campaigns/new?q=ada"))
    assert re.search(r'id="eligible-count">1<', page)
    assert "search “ada”" in page


def test_sending_queues_one_message_per_eligible_address(customer_client, session):
    response = _send(customer_client)
    assert response.status_code == 302
    campaign = session.scalar(sa.select(Campaign))
    assert response.location.endswith(f"/campaigns/{campaign.id}")
    addresses = session.scalars(sa.select(OutboxMessage.to_address).order_by(OutboxMessage.id))
    assert list(addresses) == ["ada@acme.example", "bob@acme.example"]
    page = _page(customer_client.get(response.location))
    assert "2 confirmation emails are being prepared" in page
    assert "2 emails are waiting to go out" in page


def test_the_own_text_must_contain_both_links(customer_client, session):
    response = _send(
        customer_client,
        template="custom",
        subject="Still there?",
        body="Please confirm: {confirm_link}",
    )
    page = _page(response)
    assert "The text must contain {unsubscribe_link}" in page
    assert session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_show_the_email_renders_the_own_text_without_sending(customer_client, session):
    response = customer_client.post(
        "/campaigns/new",
        {
            "template": "custom",
            "subject": "Hello from {account_name}",
            "body": "<b>Yes</b>: {confirm_link}\nNo: {unsubscribe_link}",
            "expected_count": "2",
            "preview": "Show the email",
        },
    )
    page = _page(response)
    assert "Hello from Acme" in page
    assert "&lt;b&gt;Yes&lt;/b&gt;: http" in page  # escaped, never rendered as HTML
    assert session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_a_changed_selection_stops_the_send_and_says_so(
    customer_client, session, make_contact, contacts
):
    page = _page(customer_client.get("/campaigns/new"))
    assert re.search(r'id="eligible-count">2<', page)
    make_contact(contacts, consent=True, email="dee@acme.example")
    response = customer_client.post(
        "/campaigns/new", {"template": "provided", "expected_count": "2", "send": "Send"}
    )
    assert "3 addresses are eligible now" in _page(response)
    assert session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_the_campaign_page_shows_sent_confirmed_unsubscribed_and_failed(
    customer_client, session, smtp_sink, app
):
    smtp_sink.answer("bob@acme.example", "550 5.1.1 No such user")
    campaign_url = _send(customer_client).location
    deliver_outbox(session, smtp_sink.transport())  # the page queued at the real time
    ada = session.scalar(
        sa.select(CampaignRecipient).where(CampaignRecipient.address == "ada@acme.example")
    )
    customer_client.get(f"/r/confirm/{ada.confirm_token}")
    customer_client.post(f"/r/confirm/{ada.confirm_token}")
    page = _page(customer_client.get(campaign_url))
    assert "Finished" in page
    for name, n in (("sent", 1), ("confirmed", 1), ("unsubscribed", 0), ("failed", 1)):
        assert re.search(rf'id="{name}-count">{n}<', page), name
    assert "bob@acme.example" in page and "550 5.1.1 No such user" in page
    listing = _page(customer_client.get("/campaigns"))
    assert f"/campaigns/{ada.campaign_id}" in listing


def test_sending_needs_the_csrf_token(customer_client, session):
    response = customer_client.post(
        "/campaigns/new",
        {"template": "provided", "expected_count": "2", "send": "Send"},
        csrf=False,
    )
    assert response.status_code == 400
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_another_accounts_campaign_is_a_404(client, contacts, other_customer, make_campaign):
    campaign = make_campaign(contacts)
    client.login(other_customer.email)
    assert client.get(f"/campaigns/{campaign.id}").status_code == 404
    assert f"/campaigns/{campaign.id}" not in _page(client.get("/campaigns"))


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_support_staff_cannot_send_confirmations(client, request, who):
    user = request.getfixturevalue(who)
    client.login(user.email)
    assert client.get("/campaigns/new").status_code == 403
    assert client.post("/campaigns/new", {"send": "Send"}).status_code == 403


def test_nothing_is_sent_until_the_sender_runs(customer_client, session):
    _send(customer_client)
    states = session.scalars(sa.select(OutboxMessage.state)).all()
    assert states == [OutboxState.pending, OutboxState.pending]


def test_the_page_follows_the_preparation_then_says_when_it_stopped(
    customer_client, session, contacts
):
    actor = Actor(ActorKind.customer, contacts.id)
    flt = ContactFilter(contacts.account_id)
    campaign = create_campaign(session, flt, (EmailField.email,), provided_content(), actor, NOW)
    session.commit()
    page = _page(customer_client.get(f"/campaigns/{campaign.id}"))
    assert "Preparing the emails" in page
    assert re.search(r">0</span> of 2 emails written", page)
    assert 'http-equiv="refresh"' in page  # it follows by itself
    listing = _page(customer_client.get("/campaigns"))
    assert "Preparing the emails (0%)" in listing

    campaign.state, campaign.error = CampaignState.failed, "Something <broke>."
    session.commit()
    page = _page(customer_client.get(f"/campaigns/{campaign.id}"))
    assert "Preparing the emails stopped." in page and "Something &lt;broke&gt;." in page
    assert 'http-equiv="refresh"' not in page


def test_the_preparation_progress_is_served_as_json_to_its_account_only(
    customer_client, client, session, contacts, other_customer
):
    actor = Actor(ActorKind.customer, contacts.id)
    flt = ContactFilter(contacts.account_id)
    campaign = create_campaign(session, flt, (EmailField.email,), provided_content(), actor, NOW)
    session.commit()
    response = customer_client.get(f"/campaigns/{campaign.id}/progress.json")
    data = response.get_json()
    # Recorded at NOW (weeks ago) with no run since: it is stalled, and says so.
    assert data.pop("note") == "Stalled, resuming…"
    assert data == {"done": False, "percent": 0, "written": 0, "expected": 2}
    assert response.headers["Cache-Control"] == "no-store"
    client.login(other_customer.email)
    assert client.get(f"/campaigns/{campaign.id}/progress.json").status_code == 404
