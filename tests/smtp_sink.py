"""A real SMTP server on loopback that keeps what it receives: for tests and the bench.

Needs aiosmtpd (a development requirement), imported only when a sink starts. Replies can be
scripted per recipient (`answer("a@x.example", "451 4.3.0 Try later", "250 OK")`) to exercise
the sender's retries and refusals against the real protocol instead of a mock.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cached_property

from requests_queue.mail.transport import SmtpSettings, SmtpTransport


@dataclass
class Received:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @cached_property
    def message(self) -> EmailMessage:
        """The parsed message (parsed on first use, so a busy sink stays fast)."""
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        """The Subject header."""
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        """The plain-text body."""
        part = self.message.get_body(preferencelist=("plain",))
        # Lines travel as CRLF; a mail client shows plain line breaks.
        return part.get_content().replace("\r\n", "\n") if part is not None else ""

    def header(self, name: str) -> str | None:
        """One header's value, or None."""
        value = self.message[name]
        return None if value is None else str(value)


class SinkHandler:
    """aiosmtpd handler: accepts and keeps every message unless a reply is scripted."""

    def __init__(self):
        self.received: list[Received] = []
        self._scripts: dict[str, deque[str]] = defaultdict(deque)
        self._lock = threading.Lock()

    def answer(self, address: str, *replies: str) -> None:
        """Script the next RCPT replies for `address` (e.g. "451 4.3.0 Try later")."""
        with self._lock:
            self._scripts[address.lower()].extend(replies)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        with self._lock:
            script = self._scripts.get(address.lower())
            reply = script.popleft() if script else "250 OK"
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        item = Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        with self._lock:
            self.received.append(item)
        return "250 Message accepted for delivery"


class SmtpSink:
    """A started aiosmtpd server on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(
        self, handler: SinkHandler | None = None, hostname: str = "127.0.0.1", **smtp_options
    ):
        self.handler = handler or SinkHandler()
        self.hostname = hostname
        self.smtp_options = smtp_options  # aiosmtpd's: tls_context, authenticator, …
        self.port = 0
        self._controller = None

    def start(self) -> SmtpSink:
        """Listen on a port the OS picks (port 0), so parallel runs never collide."""
        from aiosmtpd.controller import Controller

        class _AnyPortController(Controller):
            def _trigger_server(self):
                # Learn the port the OS gave before the controller's readiness check uses it.
                self.port = self.server.sockets[0].getsockname()[1]
                super()._trigger_server()

        self._controller = _AnyPortController(
            self.handler, hostname=self.hostname, port=0, **self.smtp_options
        )
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def messages(self) -> list[Received]:
        """What arrived so far, in order."""
        return list(self.handler.received)

    def answer(self, address: str, *replies: str) -> None:
        """Script the next RCPT replies for `address`."""
        self.handler.answer(address, *replies)

    def to(self, address: str) -> list[Received]:
        """The messages delivered to `address`."""
        return [m for m in self.handler.received if address.lower() in map(str.lower, m.rcpt_tos)]

    def config(self) -> dict:
        """SMTP_* settings that point an app at this sink."""
        return {"SMTP_HOST": self.hostname, "SMTP_PORT": self.port, "SMTP_TLS": "none"}

    def settings(self, **overrides) -> SmtpSettings:
        """Sender settings for this sink."""
        return SmtpSettings(
            **{"host": self.hostname, "port": self.port, "timeout": 10.0, **overrides}
        )

    def transport(self, **overrides) -> SmtpTransport:
        """A transport that delivers here."""
        return SmtpTransport(self.settings(**overrides))


def _serve_counting(port_queue, counter, stop) -> None:
    """Child process body of `sink_process`: count arrivals until told to stop."""

    class Counting(SinkHandler):
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            with counter.get_lock():
                counter.value += 1
            return "250 Message accepted for delivery"

    with SmtpSink(Counting()) as sink:
        port_queue.put(sink.port)
        stop.wait()


class SinkProcess:
    """A counting sink in its own process, so it does not share the GIL with the sender."""

    def __init__(self):
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._queue = ctx.Queue()
        self._counter = ctx.Value("i", 0)
        self._stop = ctx.Event()
        self._process = ctx.Process(
            target=_serve_counting, args=(self._queue, self._counter, self._stop), daemon=True
        )
        self.port = 0

    def __enter__(self) -> SinkProcess:
        self._process.start()
        self.port = self._queue.get(timeout=60)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._process.join(10)

    @property
    def received(self) -> int:
        """How many messages arrived."""
        return self._counter.value

    def transport(self) -> SmtpTransport:
        """A transport that delivers here."""
        return SmtpTransport(SmtpSettings(host="127.0.0.1", port=self.port, timeout=10.0))
