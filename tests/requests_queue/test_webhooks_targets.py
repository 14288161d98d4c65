"""Specs for where a webhook endpoint may point: public hosts only (server-side request forgery)."""

from __future__ import annotations

import pytest

from requests_queue.errors import ValidationError
from requests_queue.webhooks.targets import TargetPolicy, UnsafeTarget, check_url, resolve_url

PRODUCTION = TargetPolicy()
TESTS = TargetPolicy(allow_loopback=True, allow_http=True)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost:8443/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://172.16.0.1/hook", "private"),
        ("https://192.168.1.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://0.0.0.0/hook", "not a public address"),
        ("https://100.64.0.1/hook", "not a public address"),
        ("https://224.0.0.1/hook", "not a public address"),
        ("http://93.184.215.14/hook", "use an https:// URL"),
        ("https://user:pw@93.184.215.14/hook", "user name or password"),
        ("ftp://93.184.215.14/hook", "full URL"),
        ("hooks.example.com/consent", "full URL"),
        ("https://93.184.215.14:99999/", "not a valid URL"),
        ("", "enter the URL"),
        ("https://no-such-host.invalid/hook", "cannot be resolved"),
    ],
)
def test_refuses_urls_that_are_not_public_https(url, says):
    with pytest.raises(ValidationError) as refused:
        check_url(url, PRODUCTION)
    assert refused.value.field == "url"
    assert says in refused.value.reason


def test_accepts_a_public_https_address():
    assert check_url("  https://93.184.215.14/hooks?x=1 ", PRODUCTION) == (
        "https://93.184.215.14/hooks?x=1"
    )


def test_configuration_opens_loopback_and_http_but_never_private_networks():
    assert check_url("http://127.0.0.1:8080/hooks", TESTS) == "http://127.0.0.1:8080/hooks"
    with pytest.raises(ValidationError, match="private"):
        check_url("http://10.0.0.1/hooks", TESTS)
    with pytest.raises(ValidationError, match="https"):
        check_url("http://127.0.0.1:8080/hooks", TargetPolicy(allow_loopback=True))


def test_send_time_resolution_refuses_what_registration_allowed_elsewhere():
    parts, addresses = resolve_url("http://127.0.0.1:8080/hooks", TESTS)
    assert (parts.hostname, addresses) == ("127.0.0.1", ["127.0.0.1"])
    with pytest.raises(UnsafeTarget, match="loopback"):
        resolve_url("https://localhost/hooks", PRODUCTION)
