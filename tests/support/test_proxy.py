"""Behind a proxy: the visitor's address and scheme come from it, only when it is trusted."""

from __future__ import annotations

import json

import pytest

from support import create_app
from support.logs import configure_logging

FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


@pytest.fixture
def request_lines(capsys):
    configure_logging("json")
    capsys.readouterr()

    def lines():
        out = [x for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
        return [x for x in map(json.loads, out) if x["logger"] == "consent_desk.requests"]

    yield lines
    configure_logging("plain")


@pytest.mark.parametrize(("hops", "client"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_the_client_address_comes_from_the_proxy_only_when_trusted(
    app, request_lines, hops, client
):
    served = create_app({**app.config, "TRUSTED_PROXIES": hops, "LOG_FORMAT": "json"})
    served.test_client().get("/healthz", headers=FORWARDED)
    assert [line["client"] for line in request_lines()] == [client]


def test_two_hops_trust_the_address_the_outer_proxy_saw(app, request_lines):
    served = create_app({**app.config, "TRUSTED_PROXIES": 2, "LOG_FORMAT": "json"})
    # The visitor forged the first value; the outer proxy appended the real one, the inner
    # proxy the outer one's.
    headers = {"X-Forwarded-For": "10.6.6.6, 198.51.100.7, 10.0.0.2"}
    served.test_client().get("/healthz", headers=headers)
    assert [line["client"] for line in request_lines()] == ["198.51.100.7"]
