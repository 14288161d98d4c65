"""The manager's outbox page, its retry buttons, and `flask send-outbox`."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from requests_queue.models import OutboxMessage, OutboxState
from requests_queue.outbox import queue_email
from tests.conftest import NOW


@pytest.fixture
def messages(session):
    """One message in each state; the failed one carries the server's refusal."""
    made = {}
    for state in OutboxState:
        m = queue_email(
            session,
            to=f"{state.value}@example.test",
            subject=f"About your request ({state.value})",
            text=f"Body of the {state.value} message.",
            now=NOW,
            kind="request_filed",
        )
        m.state = state
        made[state] = m
    made[OutboxState.failed].last_error = "recipient refused: 550 5.1.1 No such user"
    made[OutboxState.failed].attempts = 1
    session.commit()
    return made


@pytest.fixture
def manager_client(client, manager):
    client.login(manager.email)
    return client


def test_lists_every_message_with_counts_per_state(manager_client, messages):
    page = manager_client.get("/manager/outbox").get_data(as_text=True)
    for state in OutboxState:
        assert f"{state.value}@example.test" in page
        assert f"{state.title} (1)" in page
    assert "All (4)" in page


def test_highlights_failed_messages_with_their_error_and_a_retry_button(manager_client, messages):
    page = manager_client.get("/manager/outbox?state=failed").get_data(as_text=True)
    assert 'class="is-failed"' in page
    assert "550 5.1.1 No such user" in page
    assert f"/manager/outbox/{messages[OutboxState.failed].id}/retry" in page
    assert "sent@example.test" not in page and "pending@example.test" not in page


def test_says_mail_stays_in_the_outbox_when_no_smtp_server_is_configured(manager_client, app):
    app.config["SMTP_HOST"] = ""
    page = manager_client.get("/manager/outbox").get_data(as_text=True)
    assert "No SMTP server is configured" in page
    app.config["SMTP_HOST"] = "mail.example.test"
    assert "No SMTP server is configured" not in manager_client.get("/manager/outbox").get_data(
        as_text=True
    )


def test_shows_one_message_with_its_body(manager_client, messages):
    m = messages[OutboxState.pending]
    page = manager_client.get(f"/manager/outbox/{m.id}").get_data(as_text=True)
    assert "Body of the pending message." in page
    assert manager_client.get("/manager/outbox/999999").status_code == 404


def test_escapes_what_a_message_contains(manager_client, session):
    m = queue_email(
        session,
        to="x@example.test",
        subject="<script>alert(1)</script>",
        text="<b>hi</b>",
        now=NOW,
        kind="test",
    )
    session.commit()
    for url in ("/manager/outbox", f"/manager/outbox/{m.id}"):
        page = manager_client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_retry_puts_a_failed_message_back_in_line(manager_client, messages, session):
    m = messages[OutboxState.failed]
    response = manager_client.post(f"/manager/outbox/{m.id}/retry")
    assert response.status_code == 302
    session.expire_all()
    row = session.get(OutboxMessage, m.id)
    assert (row.state, row.attempts) == (OutboxState.pending, 0)
    page = manager_client.get(response.location).get_data(as_text=True)
    assert "will be sent again" in page


def test_retry_refuses_a_message_that_has_not_failed(manager_client, messages, session):
    m = messages[OutboxState.sent]
    page = manager_client.post(f"/manager/outbox/{m.id}/retry", follow_redirects=True)
    assert "Only a failed message can be retried" in page.get_data(as_text=True)
    session.expire_all()
    assert session.get(OutboxMessage, m.id).state is OutboxState.sent


def test_retry_needs_the_csrf_token(manager_client, messages, session):
    m = messages[OutboxState.failed]
    assert manager_client.post(f"/manager/outbox/{m.id}/retry", csrf=False).status_code == 400
    session.expire_all()
    assert session.get(OutboxMessage, m.id).state is OutboxState.failed


def test_retry_never_redirects_to_another_site(manager_client, messages):
    m = messages[OutboxState.failed]
    response = manager_client.post(
        f"/manager/outbox/{m.id}/retry", {"next": "//evil.example/manager/outbox"}
    )
    assert response.location.endswith("/manager/outbox?state=failed")


def test_retry_all_failed(manager_client, messages, session):
    manager_client.post("/manager/outbox/retry-failed")
    failed = session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.failed)
    )
    assert failed == 0


@pytest.mark.parametrize("who", ["customer", "agent"])
def test_only_managers_see_the_outbox(client, who, request, messages):
    user = request.getfixturevalue(who)
    client.login(user.email)
    assert client.get("/manager/outbox").status_code == 403
    m = messages[OutboxState.failed]
    assert client.post(f"/manager/outbox/{m.id}/retry").status_code == 403


def test_visitors_are_sent_to_the_login_page(client):
    assert "/login" in client.get("/manager/outbox").location


def test_the_nav_links_to_the_outbox_for_managers_only(client, manager, agent):
    client.login(manager.email)
    assert 'href="/manager/outbox"' in client.get("/manager/calendar").get_data(as_text=True)
    client.logout()
    client.login(agent.email)
    assert 'href="/manager/outbox"' not in client.get("/desk/").get_data(as_text=True)


def test_send_outbox_command_delivers_the_due_messages(app, session, smtp_sink):
    queue_email(session, to="ada@example.test", subject="Hi", text="Hello.", now=NOW, kind="t")
    session.commit()
    app.config.update(smtp_sink.config())
    result = app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    assert "sent 1, retrying 0, failed 0" in result.output
    assert [m.rcpt_tos for m in smtp_sink.messages] == [["ada@example.test"]]


def test_send_outbox_command_keeps_mail_when_no_smtp_server_is_set(app, session):
    queue_email(session, to="ada@example.test", subject="Hi", text="Hello.", now=NOW, kind="t")
    session.commit()
    app.config["SMTP_HOST"] = ""
    result = app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0
    assert "SMTP_HOST is not set" in result.output and "1 pending" in result.output
    session.expire_all()
    assert session.scalar(sa.select(OutboxMessage.state)) is OutboxState.pending


def test_send_outbox_command_withdraws_a_confirmation_to_an_address_that_opted_out(
    app, session, customer, make_contact, make_campaign, smtp_sink
):
    from requests_queue.models import EmailAddress
    from requests_queue.status_changes import change_status
    from requests_queue.statuses import Actor, ActorKind, EmailStatus

    make_contact(customer, consent=True, email="ada@acme.example")
    make_campaign(customer)
    # Queued, then the customer opted Ada out before the sender came round.
    ada = session.scalar(sa.select(EmailAddress).where(EmailAddress.address == "ada@acme.example"))
    change_status(
        session, ada, EmailStatus.opted_out_by_user, Actor(ActorKind.customer, customer.id), NOW
    )
    session.commit()
    app.config.update(smtp_sink.config())
    result = app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    assert "sent 0" in result.output and "withdrawn 1" in result.output
    assert smtp_sink.messages == []
    session.expire_all()
    message = session.scalar(sa.select(OutboxMessage))
    assert message.state is OutboxState.failed
    assert message.last_error == "Not sent: the address is no longer single opt-in."
