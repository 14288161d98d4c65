"""SMTP settings, TLS and login, and how errors are sorted into retry or fail."""

from __future__ import annotations

import smtplib
import ssl
import subprocess

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from requests_queue.mail import SmtpSettings, deliver_outbox, settings_from_config
from requests_queue.mail.transport import classify
from requests_queue.models import OutboxMessage, OutboxState
from requests_queue.outbox import queue_email
from tests.conftest import NOW
from tests.smtp_sink import SmtpSink


def test_no_smtp_host_means_no_transport():
    assert settings_from_config({"SMTP_HOST": "", "SMTP_PORT": 25}) is None


def test_reads_every_smtp_setting():
    settings = settings_from_config(
        {
            "SMTP_HOST": "mail.example.test",
            "SMTP_PORT": "587",
            "SMTP_TLS": "STARTTLS",
            "SMTP_USERNAME": "desk",
            "SMTP_PASSWORD": "s3cret",
            "MAIL_FROM": "Desk <desk@example.test>",
        }
    )
    assert (settings.host, settings.port, settings.tls) == ("mail.example.test", 587, "starttls")
    assert (settings.username, settings.password) == ("desk", "s3cret")
    assert settings.envelope_from == "desk@example.test"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"SMTP_TLS": "tls"}, "SMTP_TLS must be one of none, starttls, ssl"),
        ({"MAIL_FROM": "Consent Desk"}, "MAIL_FROM has no address"),
    ],
)
def test_rejects_settings_that_cannot_work(config, message):
    with pytest.raises(ValueError, match=message):
        settings_from_config({"SMTP_HOST": "mail.example.test", **config})


@pytest.mark.parametrize(
    ("error", "temporary", "connection_lost"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x": (451, b"try later")}), True, False),
        (smtplib.SMTPRecipientsRefused({"a@x": (550, b"no such user")}), False, False),
        (smtplib.SMTPDataError(452, b"mailbox full"), True, False),
        (smtplib.SMTPDataError(554, b"spam"), False, False),
        (smtplib.SMTPSenderRefused(553, b"not yours", "desk@x"), False, False),
        (smtplib.SMTPResponseException(421, b"closing"), True, True),
        (smtplib.SMTPServerDisconnected("gone"), True, True),
        (ConnectionResetError(104, "reset"), True, True),
        (TimeoutError("timed out"), True, True),
        (smtplib.SMTPNotSupportedError("SMTPUTF8 not supported"), False, False),
    ],
)
def test_sorts_errors_into_retry_or_fail(error, temporary, connection_lost):
    failure = classify(error)
    assert (failure.temporary, failure.connection_lost) == (temporary, connection_lost)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and the client context that trusts it."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


@pytest.fixture(params=["starttls", "ssl"])
def tls_sink(request, certificate):
    """A sink that requires TLS (STARTTLS or implicit) and a login."""
    server_context, _ = certificate
    if request.param == "starttls":
        options = {"tls_context": server_context, "require_starttls": True}
    else:
        # aiosmtpd only knows about TLS it started itself; the implicit-TLS socket is
        # encrypted all the same, so AUTH is offered without its STARTTLS requirement.
        options = {"ssl_context": server_context, "auth_require_tls": False}
    with SmtpSink(authenticator=_authenticator, **options) as sink:
        sink.tls = request.param
        yield sink


def _queue_one(session):
    message = queue_email(
        session, to="ada@example.test", subject="Hi", text="Hello.", now=NOW, kind="test"
    )
    session.commit()
    return message


def test_delivers_over_tls_with_a_login(session, tls_sink, certificate):
    _queue_one(session)
    transport = tls_sink.transport(
        tls=tls_sink.tls, username="desk", password="s3cret", ssl_context=certificate[1]
    )
    assert deliver_outbox(session, transport, NOW).sent == 1
    assert [m.rcpt_tos for m in tls_sink.messages] == [["ada@example.test"]]


def test_a_wrong_password_keeps_the_message_for_a_retry(session, tls_sink, certificate):
    message = _queue_one(session)
    transport = tls_sink.transport(
        tls=tls_sink.tls, username="desk", password="wrong", ssl_context=certificate[1]
    )
    report = deliver_outbox(session, transport, NOW)
    assert "535" in report.connect_error
    session.expire_all()
    row = session.get(OutboxMessage, message.id)
    assert (row.state, row.attempts) == (OutboxState.pending, 1)
    assert tls_sink.messages == []


def test_refuses_a_certificate_it_does_not_trust(session, tls_sink):
    message = _queue_one(session)
    transport = tls_sink.transport(tls=tls_sink.tls, username="desk", password="s3cret")
    report = deliver_outbox(session, transport, NOW)
    assert "CERTIFICATE_VERIFY_FAILED" in report.connect_error
    session.expire_all()
    assert session.get(OutboxMessage, message.id).state is OutboxState.pending


def test_settings_are_checked_when_built_directly():
    with pytest.raises(ValueError):
        SmtpSettings(host="x", tls="bogus")
