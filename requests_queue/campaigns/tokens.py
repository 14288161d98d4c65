"""Signed links for recipients: confirm (14 days, once) and unsubscribe (no expiry).

A token reads `<campaign>.<address id>.<nonce>[.<time>].<signature>`. The signature is
itsdangerous' HMAC, keyed by the app's secret and the purpose, over the token's value AND the
address: the address is bound to the token without appearing in the URL, so a forwarded or
logged link reveals no address, and a token made for one address fails for any other. The
secret is passed in; nothing here reads Flask config.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from itsdangerous import BadData, Signer
from itsdangerous.encoding import base64_decode, base64_encode, bytes_to_int, int_to_bytes
from itsdangerous.signer import HMACAlgorithm

from ..errors import DomainError

CONFIRM_MAX_AGE = timedelta(days=14)
# Unsubscribe links never expire: the law asks for at least 30 days, the product for 60,
# and an old email's link that still works is what a recipient expects.
CLOCK_SKEW = timedelta(minutes=5)  # a token "from the future" by more than this is forged


class Purpose(enum.Enum):
    """What a link does; each purpose signs with its own key."""

    confirm = "confirm"
    unsubscribe = "unsubscribe"


class LinkError(DomainError):
    """A link that cannot be used; `reason` names the page the recipient sees."""

    reason = "invalid"


class LinkInvalid(LinkError):
    """Malformed, tampered with, or not made for this address and campaign."""

    reason = "invalid"


class LinkExpired(LinkError):
    """Signed by us, but older than its purpose allows."""

    reason = "expired"


@dataclass(frozen=True)
class TokenClaims:
    """What a token names (not to be trusted before `verify_token`)."""

    campaign_id: int
    address_id: int
    nonce: str


def new_nonce() -> str:
    """A short random value stored with the recipient and carried in its links."""
    return secrets.token_urlsafe(6)


class _KeyedHMAC(HMACAlgorithm):
    """itsdangerous' HMAC-SHA1, keeping each key's prepared state: a campaign signs 200,000
    links with one key, and preparing the key is most of the cost of a signature."""

    def __init__(self):
        super().__init__()
        self._prepared: dict[bytes, hmac.HMAC] = {}

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = hmac.new(key, digestmod=self.digest_method)
        mac = prepared.copy()
        mac.update(value)
        return mac.digest()


class _LinkSigner(Signer):
    """A Signer whose derived keys are computed once, not at every signature."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._derived: dict = {}

    def derive_key(self, secret_key=None) -> bytes:
        key = self._derived.get(secret_key)
        if key is None:
            key = self._derived[secret_key] = super().derive_key(secret_key)
        return key


# The app's secret, or (current, previous, …) while a rotated SECRET_KEY's links still work:
# links are signed with the first and verified with any of them.
Secret = str | tuple[str, ...]


def _keys(secret: Secret) -> tuple[str, ...]:
    return (secret,) if isinstance(secret, str) else tuple(secret)


@lru_cache(maxsize=16)
def _signer(keys: tuple[str, ...], purpose: Purpose) -> Signer:
    # One signer per purpose: a confirm token can never pass as an unsubscribe one.
    salt = f"consent-desk.recipient-link.{purpose.value}"
    # itsdangerous signs with the last key of the list and verifies with every one.
    return _LinkSigner(list(reversed(keys)), salt=salt, algorithm=_KeyedHMAC())


@lru_cache(maxsize=64)
def _timestamp(seconds: int) -> str:
    return base64_encode(int_to_bytes(seconds)).decode()


def _bound(value: str, address: str) -> str:
    # "|" occurs in no token value (digits, URL-safe base64, dots), so this is unambiguous.
    return f"{value}|{address}"


def make_token(
    secret: Secret, purpose: Purpose, claims: TokenClaims, address: str, now: datetime
) -> str:
    """Sign a link token for `address` (the address is signed, not written in the token)."""
    value = f"{claims.campaign_id}.{claims.address_id}.{claims.nonce}"
    if purpose is Purpose.confirm:
        value += "." + _timestamp(int(now.timestamp()))
    signature = _signer(_keys(secret), purpose).get_signature(_bound(value, address))
    return f"{value}.{signature.decode()}"


def read_claims(token: str, purpose: Purpose) -> TokenClaims:
    """What the token says, before verification (to find the address it must be bound to)."""
    parts = token.split(".")
    expected = 5 if purpose is Purpose.confirm else 4
    if len(parts) != expected or not (parts[0].isdigit() and parts[1].isdigit()):
        raise LinkInvalid("this link is incomplete or was changed")
    return TokenClaims(int(parts[0]), int(parts[1]), parts[2])


def verify_token(
    secret: Secret, token: str, purpose: Purpose, address: str, now: datetime
) -> TokenClaims:
    """The token's claims if we signed it for `address` (with any of the keys) and it has
    not expired."""
    claims = read_claims(token, purpose)
    value, _, signature = token.rpartition(".")
    signer = _signer(_keys(secret), purpose)
    if not signer.verify_signature(_bound(value, address), signature):
        raise LinkInvalid("this link is incomplete or was changed")
    if purpose is Purpose.confirm:
        try:
            signed_at = bytes_to_int(base64_decode(value.rpartition(".")[2]))
        except BadData:
            raise LinkInvalid("this link is incomplete or was changed") from None
        age = now - datetime.fromtimestamp(signed_at, now.tzinfo)
        if age > CONFIRM_MAX_AGE:
            raise LinkExpired("this link has expired")
        if age < -CLOCK_SKEW:
            raise LinkInvalid("this link is incomplete or was changed")
    return claims
