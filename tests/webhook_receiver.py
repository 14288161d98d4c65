"""A real HTTP receiver on 127.0.0.1 for webhook tests: it answers as scripted and keeps
every request it got (headers and raw body), successful or not."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request as it arrived, and what the receiver answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """`fail_next(n)` answers the next n requests with 500; `url` is where it listens."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._failures = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    failing = receiver._failures > 0
                    receiver._failures -= failing
                    status = 500 if failing else 204
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.received.append(Received(self.path, headers, body, status))
                self.send_response(status)
                payload = b"receiver is down: try later" if failing else b""
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def fail_next(self, n: int) -> None:
        with self._lock:
            self._failures = n

    @property
    def accepted(self) -> list[Received]:
        """The requests it answered with a 2xx."""
        return [r for r in self.received if r.answered < 300]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


# What tests configure so endpoints may be http://127.0.0.1 (never in production).
LOOPBACK = {"WEBHOOKS_ALLOW_LOOPBACK": True, "WEBHOOKS_ALLOW_HTTP": True}
