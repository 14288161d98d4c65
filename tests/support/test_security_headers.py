"""The headers a security review expects, on every kind of response."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from requests_queue.models import CampaignRecipient
from requests_queue.now import now_utc

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@pytest.fixture
def token(session, customer, make_contact, make_campaign) -> str:
    """A working confirmation token for Ada."""
    make_contact(customer, consent=True, email="ada@acme.example")
    make_campaign(customer, at=now_utc())
    return session.scalar(sa.select(CampaignRecipient.confirm_token))


def _directives(header: str) -> dict[str, str]:
    """A CSP header as {directive: sources}."""
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def _assert_hardened(response, referrer: str = "same-origin") -> None:
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy.keys() == _directives(CSP).keys()
    for directive, sources in _directives(CSP).items():
        if directive == "style-src":  # plus this response's nonce where a page has <style>
            assert re.fullmatch(r"'self'( 'nonce-[\w-]{16,}')?", policy[directive])
        else:
            assert policy[directive] == sources, directive
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == referrer
    assert "Strict-Transport-Security" not in response.headers


def test_an_html_page_is_sent_with_the_security_headers(client):
    response = client.get("/login")
    assert response.status_code == 200
    _assert_hardened(response)


def test_an_error_page_is_sent_with_them_too(client, manager):
    client.login(manager.email)
    for url in ("/no-such-page", "/manager/outbox/999999"):
        response = client.get(url)
        assert response.status_code == 404
        _assert_hardened(response)


def test_a_static_file_is_sent_with_them_too(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    _assert_hardened(response)
    response.close()


def test_a_recipient_page_sends_no_referrer_at_all(client, token):
    response = client.get(f"/r/confirm/{token}")
    assert response.status_code == 200
    _assert_hardened(response, referrer="no-referrer")


def test_hsts_only_when_cookies_are_https_only(app, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app.config["SESSION_COOKIE_SECURE"] = True
    hsts = client.get("/login").headers["Strict-Transport-Security"]
    assert hsts.startswith("max-age=31536000")


@pytest.mark.parametrize(
    "url", ["/manager/dashboard", "/manager/system", "/manager/outbox", "/manager/calendar"]
)
def test_a_pages_style_blocks_carry_the_nonce_of_its_policy(client, manager, url):
    client.login(manager.email)
    first, second = client.get(url), client.get(url)
    nonces = []
    for response in (first, second):
        page = response.get_data(as_text=True)
        [nonce] = re.findall(r"'nonce-([\w-]+)'", response.headers["Content-Security-Policy"])
        blocks = re.findall(r"<style([^>]*)>", page)
        assert blocks and all(attrs == f' nonce="{nonce}"' for attrs in blocks)
        nonces.append(nonce)
    assert nonces[0] != nonces[1]  # a fresh nonce per response, never a constant


def test_no_template_has_inline_script_handlers_or_style_attributes():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for pattern in (
            r"\sstyle\s*=",  # inline style attributes: no nonce can allow them
            r"\son[a-z]+\s*=",  # onclick= and friends
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")",  # inline code
            r"javascript:",
            r"<style(?![^>]*nonce=)",  # a <style> block without the nonce
        ):
            offenders += [f"{path.relative_to(TEMPLATES)}: {m}" for m in re.findall(pattern, text)]
    assert offenders == []
