"""Specs for hiding recipient links from staff and logs: every form a token travels in."""

from __future__ import annotations

import pytest

from requests_queue.campaigns.links import RecipientLinks, hide_recipient_links
from requests_queue.campaigns.tokens import TokenClaims
from tests.conftest import NOW

LINKS = RecipientLinks(secret="s", base_url="https://desk.example/consent/")
CONFIRM, UNSUBSCRIBE = LINKS.tokens(TokenClaims(7, 42, "abcdEFGH"), "ada@acme.example", NOW)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (LINKS.confirm_url(CONFIRM), "https://desk.example/consent/r/confirm/…"),
        (LINKS.unsubscribe_url(UNSUBSCRIBE), "https://desk.example/consent/r/unsubscribe/…"),
        (
            LINKS.headers(UNSUBSCRIBE)["List-Unsubscribe"],
            "<https://desk.example/consent/r/unsubscribe/…/one-click>",
        ),
        (
            f'<a href="{LINKS.confirm_url(CONFIRM)}">yes</a>',
            '<a href="https://desk.example/consent/r/confirm/…">yes</a>',
        ),
        (f"GET /r/confirm/{CONFIRM}x HTTP/1.1", "GET /r/confirm/… HTTP/1.1"),
        (f"the token {CONFIRM} pasted alone", "the token … pasted alone"),
        ("version 1.2.3 on 2026.11.20, R-000007", "version 1.2.3 on 2026.11.20, R-000007"),
        ("", ""),
    ],
)
def test_hides_the_token_of_every_recipient_link(text, shown):
    assert hide_recipient_links(text) == shown
