"""The recipient's URLs, built without Flask (the queueing runs set-based, outside a request).

The paths must match the routes of support/recipient/views.py (a test checks they do).
Only the recipient may hold a working link: whatever shows mail to staff or writes a log
passes it through `hide_recipient_links` first.
"""

from __future__ import annotations

import logging
import re
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


HIDDEN = "…"
LINK_HIDDEN = "link hidden: only the recipient may use it"
# The token after any recipient path (confirm, unsubscribe, one-click), whatever the host.
_LINK_TOKEN = re.compile("(" + re.escape(PREFIX) + r"/(?:confirm|unsubscribe)/)[^\s/<>\"'?#&)\]]+")
# A bare token (tokens.py: campaign.address.nonce[.time].signature), wherever it was pasted.
_BARE_TOKEN = re.compile(r"\b\d+\.\d+\.[\w-]{8}(?:\.[\w-]{4,12})?\.[\w-]{20,}")


def hide_recipient_links(text: str) -> str:
    """`text` with the token of every recipient link replaced by "…": shown, it works for no one."""
    if not text:
        return text
    text = _LINK_TOKEN.sub(r"\g<1>" + HIDDEN, text)
    return _BARE_TOKEN.sub(HIDDEN, text)


class HideRecipientLinks(logging.Filter):
    """A log filter that writes each record's message with recipient links hidden."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message in place; never drops a record."""
        message = record.getMessage()
        hidden = hide_recipient_links(message)
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True


LOG_FILTER = HideRecipientLinks()  # one instance: adding it to a logger twice is a no-op
