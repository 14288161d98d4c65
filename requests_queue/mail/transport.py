"""SMTP delivery: connection settings, building a message from an outbox row, reading errors.

Nothing here reads Flask config: `settings_from_config` takes any mapping (the app's config,
or a dict in the bench), so the scheduler, the CLI and the tests build a transport the same way.
"""

from __future__ import annotations

import email.policy
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

TLS_MODES = ("none", "starttls", "ssl")
# Headers the sender writes itself; an outbox row cannot override them.
RESERVED_HEADERS = frozenset({"from", "to", "subject", "date", "message-id", "sender"})


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand mail over: host, port, TLS mode, credentials, the From address."""

    host: str
    port: int = 25
    tls: str = "none"  # none | starttls | ssl
    username: str = ""
    password: str = ""
    mail_from: str = "Consent Desk <support@consent-desk.test>"
    timeout: float = 30.0
    # Trust store for the server's certificate; None means the system's default.
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self):
        if self.tls not in TLS_MODES:
            raise ValueError(f"SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {self.tls!r}")
        if "@" not in parseaddr(self.mail_from)[1]:
            raise ValueError(f"MAIL_FROM has no address: {self.mail_from!r}")

    @property
    def envelope_from(self) -> str:
        """The bare address of MAIL_FROM, used as the SMTP envelope sender."""
        return parseaddr(self.mail_from)[1]

    def __repr__(self) -> str:  # never print the password in logs or tracebacks
        return f"SmtpSettings({self.host}:{self.port}, tls={self.tls}, user={self.username!r})"


def settings_from_config(config: Mapping) -> SmtpSettings | None:
    """SMTP settings from SMTP_* and MAIL_FROM; None when no SMTP_HOST is configured."""
    host = (config.get("SMTP_HOST") or "").strip()
    if not host:
        return None
    return SmtpSettings(
        host=host,
        port=int(config.get("SMTP_PORT") or 25),
        tls=(config.get("SMTP_TLS") or "none").strip().lower(),
        username=config.get("SMTP_USERNAME") or "",
        password=config.get("SMTP_PASSWORD") or "",
        mail_from=config.get("MAIL_FROM") or SmtpSettings.mail_from,
    )


class SmtpTransport:
    """Opens authenticated SMTP connections; the sender reuses one per batch."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def connect(self) -> smtplib.SMTP:
        """A ready connection: connected, TLS as configured, logged in when credentials are set."""
        s = self.settings
        context = None if s.tls == "none" else (s.ssl_context or ssl.create_default_context())
        if s.tls == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=context
            )
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            conn.ehlo()
            if s.tls == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password)
        except BaseException:
            close_quietly(conn)
            raise
        return conn

    def send(self, conn: smtplib.SMTP, message: bytes, to: str) -> None:
        """Hand one message over; raises smtplib/OS errors as they come."""
        options: list[str] = []
        if not to.isascii():  # an internationalised address needs the server's SMTPUTF8
            conn.ehlo_or_helo_if_needed()
            if not conn.has_extn("smtputf8"):
                raise smtplib.SMTPNotSupportedError("the server cannot take a non-ASCII address")
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        conn.sendmail(self.settings.envelope_from, [to], message, mail_options=options)


def close_quietly(conn: smtplib.SMTP | None) -> None:
    """QUIT politely if the connection still works, else just drop it."""
    if conn is None:
        return
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()


def build_message(
    *,
    message_id: int,
    created_at: datetime,
    mail_from: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    headers: Mapping[str, str] | None,
    now: datetime,
) -> bytes:
    """The message for one outbox row, as bytes (raises ValueError if it cannot be built).

    The body part comes from the compat32 email API (quoted-printable UTF-8); the headers are
    written here: the email API parses and refolds every header it is given, which costs
    more than the SMTP exchange itself at a few hundred messages a second.
    """
    if html:
        part: Message = MIMEMultipart("alternative", policy=_POLICY)
        part.attach(MIMEText(text, "plain", _UTF8, policy=_POLICY))
        part.attach(MIMEText(html, "html", _UTF8, policy=_POLICY))
    else:
        part = MIMEText(text, "plain", _UTF8, policy=_POLICY)
    from_header, domain = _sender(mail_from)
    lines = [
        f"From: {from_header}",
        f"To: {_header_value('To', to, raw_utf8=True)}",
        f"Subject: {_header_value('Subject', subject)}",
        f"Date: {format_datetime(now)}",
        # Stable per row: a receiver that dedupes on Message-ID sees a retry as the same mail.
        f"Message-ID: <outbox.{message_id}.{int(created_at.timestamp())}@{domain}>",
    ]
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a header name")
        if name.lower() in RESERVED_HEADERS:
            continue
        lines.append(f"{name}: {_header_value(name, str(value))}")
    head = ("\r\n".join(lines) + "\r\n").encode()
    return head + part.as_bytes()


_POLICY = email.policy.compat32.clone(linesep="\r\n")
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP  # readable in raw form, unlike base64
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII without the colon (RFC 5322)


@lru_cache(maxsize=8)
def _sender(mail_from: str) -> tuple[str, str]:
    """(From header value, domain for Message-IDs) of MAIL_FROM."""
    name, address = parseaddr(mail_from)
    header = formataddr((name, address), charset="utf-8") if name else address
    return header, address.rpartition("@")[2] or "localhost"


def _header_value(name: str, value: str, raw_utf8: bool = False) -> str:
    """A header value on one line; non-ASCII text as RFC 2047 encoded words."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"the {name} header contains a line break")
    if value.isascii() or raw_utf8:  # an SMTPUTF8 address travels as UTF-8
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


@dataclass(frozen=True)
class Failure:
    """Why a hand-over failed and what to do about it."""

    error: str
    temporary: bool  # retry later with backoff; else the message fails now
    connection_lost: bool = False  # open a new connection before the next message


def classify(exc: BaseException) -> Failure:
    """Sort an SMTP or network error: 4xx and connection trouble retry, 5xx refusals fail."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (450, b"refused"))
        return _by_code(code, text, "recipient refused")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Failure(f"server cannot carry this message: {exc}", temporary=False)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Failure(f"connection lost: {exc}", temporary=True, connection_lost=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        failure = _by_code(exc.smtp_code, exc.smtp_error, _stage(exc))
        # 421 means the server is closing the channel.
        return Failure(failure.error, failure.temporary, connection_lost=exc.smtp_code == 421)
    if isinstance(exc, smtplib.SMTPException | OSError):
        return Failure(f"connection error: {exc!r}", temporary=True, connection_lost=True)
    return Failure(f"could not send: {exc!r}", temporary=False)


def classify_connect(exc: BaseException) -> Failure:
    """A failure to connect or log in is the server's or the settings' fault, never a message's."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return Failure(f"could not connect: {exc.smtp_code} {text}".strip(), temporary=True)
    return Failure(f"could not connect: {exc!r}", temporary=True)


def _stage(exc: smtplib.SMTPResponseException) -> str:
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "sender refused"
    if isinstance(exc, smtplib.SMTPDataError):
        return "message refused"
    return "server said"


def _by_code(code: int, text: bytes | str, stage: str) -> Failure:
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    error = f"{stage}: {code} {text}".strip()
    return Failure(error[:1000], temporary=not 500 <= code < 600)
