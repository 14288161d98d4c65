"""Who sent a delivery: each provider's signature, checked before anything is read or stored.

Every check raises `Refused` or returns the delivery's nonce (its token, id or signature) so
the caller can refuse a replay of the very same signed delivery. A signed delivery older (or
newer) than five minutes is refused as stale, whatever its signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from standardwebhooks import Webhook

MAX_AGE = timedelta(minutes=5)


class Refused(Exception):
    """A delivery refused before processing; `kind` is bad_signature, stale or replayed."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def bad(reason: str) -> Refused:
    """A signature (or credential) that does not verify: a 401, counted."""
    return Refused("bad_signature", reason)


def check_fresh(signed_at: datetime, now: datetime) -> None:
    """Refuse a signature made more than five minutes from now (either way)."""
    if abs(now - signed_at) > MAX_AGE:
        raise Refused("stale", f"signed at {signed_at:%Y-%m-%d %H:%M:%S} UTC, over 5 minutes away")


def _epoch(text: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise bad("the signature's timestamp is not a number") from None


def check_mailgun(body: bytes, signing_key: str, now: datetime) -> str:
    """Mailgun: hex HMAC-SHA256 of timestamp + token with the signing key, in the JSON body."""
    try:
        sig = json.loads(body)["signature"]
        timestamp, token, given = str(sig["timestamp"]), str(sig["token"]), str(sig["signature"])
    except (ValueError, KeyError, TypeError):
        raise bad("no Mailgun signature in the body") from None
    expected = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256)
    if not signing_key or not hmac.compare_digest(expected.hexdigest(), given.lower()):
        raise bad("the Mailgun signature does not match the signing key")
    check_fresh(_epoch(timestamp), now)
    return "mg:" + hashlib.sha256(token.encode()).hexdigest()


def load_sendgrid_key(text: str):
    """SendGrid's verification key as shown in its settings (base64 DER) or as PEM."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, TypeError):
        raise ValueError("not a public key: paste the verification key SendGrid shows") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("SendGrid signs with an elliptic-curve (ECDSA) key; this is another kind")
    return key


def check_sendgrid(body: bytes, headers, public_key: str, now: datetime) -> str:
    """SendGrid: ECDSA (P-256, SHA-256) over timestamp + body, base64 DER in the headers."""
    given = headers.get("X-Twilio-Email-Event-Webhook-Signature", "")
    timestamp = headers.get("X-Twilio-Email-Event-Webhook-Timestamp", "")
    if not given or not timestamp:
        raise bad("no X-Twilio-Email-Event-Webhook-Signature or -Timestamp header")
    try:
        key = load_sendgrid_key(public_key)
        key.verify(base64.b64decode(given), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (ValueError, binascii.Error, InvalidSignature):
        raise bad("the SendGrid signature does not match the verification key") from None
    check_fresh(_epoch(timestamp), now)
    return "sg:" + hashlib.sha256(given.encode()).hexdigest()


def check_standard(body: bytes, headers, secret: str, now: datetime) -> str:
    """Standard Webhooks: `v1,` base64 HMAC-SHA256 of `id.timestamp.body` (webhook-* headers)."""
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    if not (msg_id and timestamp and given):
        raise bad("no webhook-id, webhook-timestamp or webhook-signature header")
    signed_at = _epoch(timestamp)
    try:
        expected = Webhook(secret).sign(msg_id, signed_at, body.decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError, Exception):
        raise bad("the signature cannot be checked with this feed's secret") from None
    if not any(hmac.compare_digest(expected, part) for part in given.split(" ")):
        raise bad("the webhook-signature does not match the feed's secret")
    check_fresh(signed_at, now)
    return "sw:" + hashlib.sha256(f"{msg_id}.{timestamp}".encode()).hexdigest()


def check_basic_auth(authorization: str | None, username: str, password: str) -> None:
    """Postmark with basic auth: the credentials the account set for this feed."""
    if not password:
        return  # the feed's secret URL alone identifies it
    scheme, _, value = (authorization or "").partition(" ")
    try:
        given_user, _, given_password = base64.b64decode(value).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise bad("the basic-auth credentials cannot be read") from None
    ok_user = hmac.compare_digest(given_user.encode(), username.encode())
    ok_password = hmac.compare_digest(given_password.encode(), password.encode())
    if scheme.lower() != "basic" or not (ok_user and ok_password):
        raise bad("wrong basic-auth credentials")
