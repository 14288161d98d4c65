"""One POST to an endpoint, connected to the address the SSRF check approved.

http.client, not a client library: the connection must go to the checked IP while TLS still
verifies the certificate against the URL's host name, and redirects are never followed
(a 3xx is an answer like any other non-2xx: the delivery is tried again later).
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import SplitResult

EXCERPT = 500  # characters of the answer kept for the settings page
READ_AT_MOST = 4096


@dataclass(frozen=True)
class Answer:
    """What came back: an HTTP status and the start of the body, or an error and no status."""

    status: int | None
    body: str = ""
    error: str = ""

    @property
    def is_success(self) -> bool:
        """A 2xx: the endpoint has the event."""
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, ip: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, ip: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(
    parts: SplitResult, addresses: list[str], body: bytes, headers: dict, timeout: float
) -> Answer:
    """POST `body` to the URL, trying each approved address until one connects."""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = _PinnedHTTPS if https else _PinnedHTTP
    error = "no address to connect to"
    for ip in addresses:
        connection = kind(parts.hostname, ip, port, timeout)
        try:
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(READ_AT_MOST).decode("utf-8", "replace")[:EXCERPT]
            return Answer(response.status, excerpt)
        except ConnectionRefusedError as exc:
            error = f"connection refused ({exc.strerror or exc})"
            continue  # the next address may answer
        except (OSError, http.client.HTTPException) as exc:
            return Answer(None, error=f"{type(exc).__name__}: {exc}"[:EXCERPT])
        finally:
            connection.close()
    return Answer(None, error=error[:EXCERPT])
