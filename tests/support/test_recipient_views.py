"""The recipient's pages: confirm with a button, unsubscribe, RFC 8058 one-click; no login."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from requests_queue.models import CampaignRecipient, EmailAddress, OutboxMessage, StatusEvent
from requests_queue.now import now_utc
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus, EventChannel
from tests.conftest import NOW

S = EmailStatus
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"


@pytest.fixture
def ada(session, customer, make_contact, make_campaign) -> CampaignRecipient:
    """Ada was sent a confirmation (at the real time, so her link is fresh)."""
    make_contact(customer, consent=True, email="ada@acme.example")
    make_campaign(customer, at=now_utc())
    return session.scalar(sa.select(CampaignRecipient))


def _status(session, recipient) -> EmailStatus:
    session.expire_all()
    return session.get(EmailAddress, recipient.address_id).status


def _events(session, recipient):
    return session.scalars(
        sa.select(StatusEvent).where(StatusEvent.address_id == recipient.address_id)
    ).all()


def test_the_confirmation_link_shows_a_button_and_changes_nothing_yet(client, session, ada):
    response = client.get(f"/r/confirm/{ada.confirm_token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "keep receiving emails from Acme" in page and "ada@acme.example" in page
    assert 'type="submit" value="Yes, keep sending me emails"' in page
    assert "<script" not in page and '<html lang="en">' in page
    assert _status(session, ada) is S.single_opt_in


def test_recipient_pages_keep_the_token_private(client, ada):
    response = client.get(f"/r/confirm/{ada.confirm_token}")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_pressing_the_button_confirms_and_records_the_proof(client, session, ada):
    response = client.post(f"/r/confirm/{ada.confirm_token}", headers={"User-Agent": BROWSER})
    assert response.status_code == 200
    assert "You're confirmed" in response.get_data(as_text=True)
    assert _status(session, ada) is S.double_opt_in
    event = _events(session, ada)[-1]
    assert (event.client_ip, event.user_agent) == ("127.0.0.1", BROWSER)
    assert event.channel is EventChannel.recipient_link
    event = _events(session, ada)[-1]
    assert event.actor_kind is ActorKind.recipient and event.campaign_id == ada.campaign_id
    assert "IP 127.0.0.1" in event.note and BROWSER in event.note


def test_a_used_link_says_so_and_changes_nothing(client, session, ada):
    client.post(f"/r/confirm/{ada.confirm_token}")
    for response in (
        client.get(f"/r/confirm/{ada.confirm_token}"),
        client.post(f"/r/confirm/{ada.confirm_token}"),
    ):
        assert "This link was already used" in response.get_data(as_text=True)
    assert len(_events(session, ada)) == 2


def test_an_expired_link_says_so_and_changes_nothing(
    client, session, customer, make_contact, make_campaign
):
    make_contact(customer, consent=True, email="old@acme.example")
    make_campaign(customer, at=NOW - timedelta(days=400))
    old = session.scalar(sa.select(CampaignRecipient))
    for response in (
        client.get(f"/r/confirm/{old.confirm_token}"),
        client.post(f"/r/confirm/{old.confirm_token}"),
    ):
        assert response.status_code == 410
        assert "This link has expired" in response.get_data(as_text=True)
    assert _status(session, old) is S.single_opt_in


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "abc", lambda t: t.split(".")[0]])
def test_a_tampered_link_says_so_and_changes_nothing(client, session, ada, mangle):
    for response in (
        client.get(f"/r/confirm/{mangle(ada.confirm_token)}"),
        client.post(f"/r/confirm/{mangle(ada.confirm_token)}"),
    ):
        assert response.status_code == 404
        assert "This link is not valid" in response.get_data(as_text=True)
    assert _status(session, ada) is S.single_opt_in


def test_the_confirm_button_needs_the_pages_csrf_token(client, session, ada):
    response = client.post(f"/r/confirm/{ada.confirm_token}", csrf=False)
    assert response.status_code == 400
    assert _status(session, ada) is S.single_opt_in


def test_a_click_after_unsubscribing_changes_nothing(client, session, ada):
    address = session.get(EmailAddress, ada.address_id)
    change_status(session, address, S.opted_out_by_recipient, Actor(ActorKind.recipient), NOW)
    session.commit()
    page = client.post(f"/r/confirm/{ada.confirm_token}").get_data(as_text=True)
    assert "Nothing was changed" in page
    assert _status(session, ada) is S.opted_out_by_recipient


def test_the_unsubscribe_page_asks_then_unsubscribes(client, session, ada):
    page = client.get(f"/r/unsubscribe/{ada.unsubscribe_token}").get_data(as_text=True)
    assert "Unsubscribe from Acme?" in page
    assert _status(session, ada) is S.single_opt_in
    response = client.post(
        f"/r/unsubscribe/{ada.unsubscribe_token}",
        headers={"User-Agent": BROWSER},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert "You're unsubscribed" in response.get_data(as_text=True)
    assert _status(session, ada) is S.opted_out_by_recipient
    event = _events(session, ada)[-1]
    assert (event.client_ip, event.user_agent) == ("198.51.100.7", BROWSER)
    assert event.channel is EventChannel.recipient_link


def test_one_click_unsubscribe_works_without_a_session_or_csrf_token(app, session, ada):
    """RFC 8058: the mailbox provider POSTs List-Unsubscribe=One-Click, nothing else."""
    provider = app.test_client()  # no cookie, no page visited before
    response = provider.post(
        f"/r/unsubscribe/{ada.unsubscribe_token}/one-click",
        data={"List-Unsubscribe": "One-Click"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "You are unsubscribed.\n"
    assert _status(session, ada) is S.opted_out_by_recipient
    assert _events(session, ada)[-1].actor_kind is ActorKind.recipient
    assert _events(session, ada)[-1].channel is EventChannel.one_click
    again = provider.post(
        f"/r/unsubscribe/{ada.unsubscribe_token}/one-click",
        data={"List-Unsubscribe": "One-Click"},
    )
    assert again.status_code == 200 and len(_events(session, ada)) == 2


def test_one_click_needs_the_rfc_8058_body(app, session, ada):
    response = app.test_client().post(f"/r/unsubscribe/{ada.unsubscribe_token}/one-click")
    assert response.status_code == 400
    assert _status(session, ada) is S.single_opt_in


def test_one_click_refuses_a_tampered_link(app, session, ada):
    response = app.test_client().post(
        f"/r/unsubscribe/{ada.unsubscribe_token[:-3]}abc/one-click",
        data={"List-Unsubscribe": "One-Click"},
    )
    assert response.status_code == 404
    assert _status(session, ada) is S.single_opt_in


def test_opening_the_one_click_url_in_a_browser_shows_the_page(client, ada):
    response = client.get(f"/r/unsubscribe/{ada.unsubscribe_token}/one-click")
    assert response.status_code == 302
    assert response.location.endswith(f"/r/unsubscribe/{ada.unsubscribe_token}")


def test_the_unsubscribe_button_needs_the_pages_csrf_token(client, session, ada):
    assert client.post(f"/r/unsubscribe/{ada.unsubscribe_token}", csrf=False).status_code == 400
    assert _status(session, ada) is S.single_opt_in


def test_the_links_in_the_message_are_the_routes_of_this_app(app, session, ada):
    message = session.scalar(sa.select(OutboxMessage))
    paths = [
        line.removeprefix("http://localhost")
        for line in message.body_text.splitlines()
        if line.startswith("http://localhost/r/")
    ]
    assert len(paths) == 2  # confirm and unsubscribe
    for path in paths:
        assert app.test_client().get(path).status_code == 200, path
    header = message.headers["List-Unsubscribe"].strip("<>").removeprefix("http://localhost")
    assert app.test_client().get(header).status_code == 302
