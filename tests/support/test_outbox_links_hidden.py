"""Staff never hold a recipient's power: recipient links are hidden on the outbox pages and in
the logs, so nobody but the recipient can confirm or unsubscribe."""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa

from requests_queue.mail import deliver_outbox
from requests_queue.models import CampaignRecipient, EmailAddress, OutboxMessage, OutboxState
from requests_queue.now import now_utc
from requests_queue.statuses import EmailStatus
from tests.live_servers import start_server, stop_server
from tests.smtp_sink import Received, SinkHandler, SmtpSink

CONFIRM_LINK = re.compile(r"http://localhost/r/confirm/[^\s<\"]+")
HIDDEN_NOTE = "link hidden: only the recipient may use it"


@pytest.fixture
def ada(session, customer, make_contact, make_campaign) -> CampaignRecipient:
    """Ada's confirmation is queued with working links (signed with the app's secret)."""
    make_contact(customer, consent=True, email="ada@acme.example")
    make_campaign(customer, at=now_utc())
    return session.scalar(sa.select(CampaignRecipient))


@pytest.fixture
def manager_client(client, manager):
    client.login(manager.email)
    return client


def _message(session) -> OutboxMessage:
    session.expire_all()
    return session.scalar(sa.select(OutboxMessage))


def _status(session, recipient) -> EmailStatus:
    session.expire_all()
    return session.get(EmailAddress, recipient.address_id).status


def _secrets(session, recipient) -> list[str]:
    """The tokens and the working links the queued message carries."""
    message = _message(session)
    links = CONFIRM_LINK.findall(message.body_text)
    assert links and all(recipient.confirm_token in link for link in links)
    return [recipient.confirm_token, recipient.unsubscribe_token, *links]


class QuotingFilter(SinkHandler):
    """A content filter that refuses the message and quotes the link it disliked."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        text = Received(envelope.mail_from, [], bytes(envelope.content)).text
        return f"554 5.7.1 Rejected: {CONFIRM_LINK.search(text).group(0)} is on a blocklist"


def test_the_message_page_shows_the_text_with_every_recipient_link_hidden(
    client, manager_client, session, ada
):
    message = _message(session)
    page = manager_client.get(f"/manager/outbox/{message.id}").get_data(as_text=True)
    for secret in _secrets(session, ada):
        assert secret not in page
    assert "http://localhost/r/confirm/…" in page and "/r/unsubscribe/…/one-click" in page
    assert HIDDEN_NOTE in page
    assert "Please confirm by opening this link" in page  # the text itself is still there

    # What the page shows leads nowhere: opened and pressed, it confirms nobody.
    shown = re.search(r"http://localhost(/r/confirm/[^\s<\"]*)", page).group(1)
    client.logout()
    assert client.get(shown).status_code == 404
    assert client.post(shown).status_code == 404
    assert _status(session, ada) is EmailStatus.single_opt_in
    # While the real link, which only Ada received, works.
    assert client.get(f"/r/confirm/{ada.confirm_token}").status_code == 200


def test_a_refusal_quoting_the_link_is_stored_shown_and_logged_without_the_token(
    manager_client, session, ada, caplog
):
    secrets = _secrets(session, ada)
    caplog.set_level(logging.DEBUG)
    with SmtpSink(QuotingFilter()) as sink:
        report = deliver_outbox(session, sink.transport())
    assert report.failed == 1
    message = _message(session)
    assert message.state is OutboxState.failed
    assert "554 5.7.1 Rejected: http://localhost/r/confirm/… is on a blocklist" in (
        message.last_error
    )
    # Everything we logged (aiosmtpd's "mail.log" is the receiving server's, not ours).
    ours = [r.getMessage() for r in caplog.records if r.name != "mail.log"]
    assert any(f"outbox message {message.id}" in line for line in ours)
    logged = "\n".join(ours)
    for secret in secrets:
        assert secret not in message.last_error and secret not in logged
    for url in ("/manager/outbox", f"/manager/outbox/{message.id}"):
        page = manager_client.get(url).get_data(as_text=True)
        assert "is on a blocklist" in page
        for secret in secrets:
            assert secret not in page


def test_the_servers_access_log_never_holds_a_recipients_link(app, session, ada, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    server, thread = start_server(app)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        for path in (f"/r/confirm/{ada.confirm_token}", f"/r/unsubscribe/{ada.unsubscribe_token}"):
            with urllib.request.urlopen(base + path) as response:
                assert response.status == 200
        with pytest.raises(urllib.error.HTTPError):  # a 404 is logged too
            urllib.request.urlopen(f"{base}/r/confirm/{ada.confirm_token}x")
    finally:
        stop_server(server, thread)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert sum("GET /r/confirm/…" in line for line in lines) == 2
    assert any("GET /r/unsubscribe/…" in line for line in lines)
    for line in lines:
        assert ada.confirm_token not in line and ada.unsubscribe_token not in line
