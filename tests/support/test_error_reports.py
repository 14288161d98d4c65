"""Sentry error reports: off unless SENTRY_DSN is set; when on, no personal data leaves."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sentry_sdk

from support import create_app
from support.extensions import db
from tests.conftest import PASSWORD, Client


class Collector(BaseHTTPRequestHandler):
    """A stand-in Sentry server on loopback that keeps every envelope it is sent."""

    received: list[bytes] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        Collector.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    server = HTTPServer(("127.0.0.1", 0), Collector)
    Collector.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://publickey@127.0.0.1:{server.server_port}/1"
    server.shutdown()
    server.server_close()
    sentry_sdk.init(dsn=None)  # the client is per process: switch it off again


def test_nothing_is_reported_without_a_dsn(app):
    assert app.config["SENTRY_DSN"] == ""
    assert not sentry_sdk.get_client().is_active()


def test_an_error_is_reported_with_its_request_id_and_no_personal_data(
    app, sentry_server, customer
):
    reporting = create_app({**app.config, "SENTRY_DSN": sentry_server})
    # Built at run time: the report quotes source lines, and a literal would be one of them.
    token = ".".join(["1", "2", "abcdefgh", "0123456789abcdefghijklmnop"])

    @reporting.get("/contacts-broken")
    def broken():
        raise RuntimeError(f"could not handle /r/confirm/{token}")

    reporting.config["PROPAGATE_EXCEPTIONS"] = False
    email = customer.email  # read here: inside the other app, its session would use that app's pool
    with reporting.app_context():
        client = Client(reporting)
        client.login(email, PASSWORD)
        response = client.get("/contacts-broken?q=private-search")
        cookie = client.http.get_cookie("session").value
        db.session.remove()
        db.engine.dispose()  # this app's own pool: closed, not left to the garbage collector
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)
    sent = b"".join(Collector.received).decode()
    assert '"type":"RuntimeError"' in sent
    assert "could not handle /r/confirm/\\u2026" in sent  # the token hidden (JSON-escaped …)
    assert response.headers["X-Request-ID"] in sent
    for private in (token, cookie, email, PASSWORD, "private-search"):
        assert private not in sent
