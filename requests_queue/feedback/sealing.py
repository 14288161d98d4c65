"""Feed credentials at rest: encrypted with a key derived from SECRET_KEY, never shown again.

MultiFernet: the first key seals, every key opens, so a credential sealed before a
SECRET_KEY rotation still opens while SECRET_KEY_PREVIOUS is set.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class Sealer:
    """Seal and open feed credentials with keys derived from the app's secret keys."""

    def __init__(self, secret_keys: list[str]):
        keys = [k for k in secret_keys if k]
        if not keys:
            raise ValueError("a secret key is needed to seal feed credentials")
        self._fernet = MultiFernet([Fernet(_derive(k)) for k in keys])

    def seal(self, plain: str) -> str:
        """The credential encrypted (empty stays empty)."""
        return self._fernet.encrypt(plain.encode()).decode() if plain else ""

    def open(self, sealed: str) -> str:
        """The credential in clear; empty when none was set or it cannot be opened."""
        if not sealed:
            return ""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return ""


def _derive(secret_key: str) -> bytes:
    digest = hashlib.sha256(b"consent-desk feedback credentials\0" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def hint(plain: str) -> str:
    """What a page may show of a credential: its length class and last four characters."""
    if not plain:
        return ""
    return f"…{plain[-4:]}" if len(plain) >= 12 else "(set)"
