"""Amazon SNS: a message's RSA signature (SignatureVersion 1: SHA1, 2: SHA256) made with the
certificate at its SigningCertURL, which must be https on an `sns.<region>.amazonaws.com` host.

The certificate comes from a fetcher the caller passes in: the app's default reads it over
https (with a short cache); tests pass a mapping of URLs to PEM so nothing leaves the machine.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.request
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .signatures import bad, check_fresh

CertFetcher = Callable[[str], bytes]
SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_KEYS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)


def is_sns_url(url: str) -> bool:
    """An https URL on an SNS host (no credentials, no other port): the only hosts trusted."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname or ""
    return (
        parts.scheme == "https"
        and SNS_HOST.match(host) is not None
        and port in (None, 443)
        and parts.username is None
        and parts.netloc.lower() in (host, f"{host}:443")
    )


def string_to_sign(message: dict) -> bytes:
    """The canonical text SNS signs: the listed keys present, `key\\nvalue\\n` in this order."""
    keys = _NOTIFICATION_KEYS if message.get("Type") == "Notification" else _SUBSCRIPTION_KEYS
    text = "".join(f"{k}\n{message[k]}\n" for k in keys if k in message and message[k] is not None)
    return text.encode()


def check_sns(message: dict, fetch: CertFetcher, now: datetime) -> str:
    """Verify an SNS message; return its nonce (the MessageId)."""
    url = str(message.get("SigningCertURL") or message.get("SigningCertUrl") or "")
    if not is_sns_url(url) or not url.endswith(".pem"):
        raise bad("the SigningCertURL is not an https .pem on an sns.<region>.amazonaws.com host")
    version = str(message.get("SignatureVersion", ""))
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(version)
    if algorithm is None:
        raise bad(f"unknown SignatureVersion {version!r}")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        certificate = x509.load_pem_x509_certificate(fetch(url))
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("not an RSA certificate")
        if not (certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc):
            raise ValueError("the certificate is not valid now")
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
    except (ValueError, binascii.Error, InvalidSignature, OSError):
        raise bad("the SNS signature does not verify with the certificate") from None
    try:
        signed_at = datetime.fromisoformat(str(message["Timestamp"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise bad("the SNS message has no Timestamp") from None
    check_fresh(signed_at, now)
    return "sns:" + str(message.get("MessageId", ""))[:100]


@lru_cache(maxsize=32)
def fetch_certificate(url: str) -> bytes:
    """The certificate at `url`, which `check_sns` has already found to be an SNS host."""
    if not is_sns_url(url):
        raise OSError("refusing to fetch a certificate from a host that is not SNS")
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (host checked above)
        return response.read(65536)


def fetcher_from(config_mapping: dict | None, fetcher: CertFetcher | None) -> CertFetcher:
    """The configured fetcher, a mapping of URL → PEM (tests), or the https fetcher."""
    if fetcher is not None:
        return fetcher
    if config_mapping is not None:

        def from_mapping(url: str) -> bytes:
            pem = config_mapping.get(url)
            if pem is None:
                raise OSError(f"no certificate configured for {url}")
            return pem if isinstance(pem, bytes) else pem.encode()

        return from_mapping
    return fetch_certificate
