"""The recipient's URLs, built without Flask (the queueing runs set-based, outside a request).

The paths must match the routes of support/recipient/views.py (a test checks they do).
"""

from __future__ import annotations

from dataclasses import dataclass

from .tokens import Purpose, TokenClaims, make_token

PREFIX = "/r"
CONFIRM_PATH = PREFIX + "/confirm/{token}"
UNSUBSCRIBE_PATH = PREFIX + "/unsubscribe/{token}"
ONE_CLICK_PATH = PREFIX + "/unsubscribe/{token}/one-click"
ONE_CLICK_POST = "List-Unsubscribe=One-Click"  # RFC 8058's List-Unsubscribe-Post value


@dataclass(frozen=True)
class RecipientLinks:
    """Signs and spells out one recipient's links under `base_url` (PUBLIC_BASE_URL)."""

    secret: str
    base_url: str

    def tokens(self, claims: TokenClaims, address: str, now) -> tuple[str, str]:
        """(confirm token, unsubscribe token) for one recipient."""
        return (
            make_token(self.secret, Purpose.confirm, claims, address, now),
            make_token(self.secret, Purpose.unsubscribe, claims, address, now),
        )

    def confirm_url(self, token: str) -> str:
        """The link in the text that confirms."""
        return self.base_url.rstrip("/") + CONFIRM_PATH.format(token=token)

    def unsubscribe_url(self, token: str) -> str:
        """The link in the text that unsubscribes (a page with a button)."""
        return self.base_url.rstrip("/") + UNSUBSCRIBE_PATH.format(token=token)

    def one_click_url(self, token: str) -> str:
        """The List-Unsubscribe URL mail clients POST to (RFC 8058)."""
        return self.base_url.rstrip("/") + ONE_CLICK_PATH.format(token=token)

    def headers(self, unsubscribe_token: str) -> dict[str, str]:
        """The List-Unsubscribe headers every campaign message carries."""
        return {
            "List-Unsubscribe": f"<{self.one_click_url(unsubscribe_token)}>",
            "List-Unsubscribe-Post": ONE_CLICK_POST,
        }
