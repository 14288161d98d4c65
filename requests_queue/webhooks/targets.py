"""Where an endpoint may point: public hosts only (server-side request forgery).

A URL is checked when it is registered and its host resolved again before every attempt, and
the connection goes to the address that was checked (sender.py), so a name that resolves to
a public address at registration and to 127.0.0.1 later (DNS rebinding) is refused then.
Loopback (for tests and local development) and plain http are allowed only by configuration:
WEBHOOKS_ALLOW_LOOPBACK and WEBHOOKS_ALLOW_HTTP.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ..errors import DomainError, ValidationError

MAX_URL = 2000
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(DomainError):
    """The endpoint's host is not (or no longer) a public address."""


@dataclass(frozen=True)
class TargetPolicy:
    """What this deployment allows beyond public https URLs."""

    allow_loopback: bool = False
    allow_http: bool = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> TargetPolicy:
        """The policy the app's configuration sets (both off in production)."""
        return cls(
            allow_loopback=bool(settings.get("WEBHOOKS_ALLOW_LOOPBACK")),
            allow_http=bool(settings.get("WEBHOOKS_ALLOW_HTTP")),
        )


def refusal(ip: IP, policy: TargetPolicy) -> str | None:
    """Why the address may not be connected to, or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "not a public address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def check_url(url: str, policy: TargetPolicy) -> str:
    """The URL, trimmed, once it is one an endpoint may have; ValidationError("url") if not."""
    url = (url or "").strip()
    if not url:
        raise ValidationError("url", "enter the URL that should receive the events")
    if len(url) > MAX_URL:
        raise ValidationError("url", f"keep the URL under {MAX_URL} characters")
    parts = _split(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and policy.allow_http):
        raise ValidationError("url", "use an https:// URL")
    try:
        resolve(parts, policy)
    except UnsafeTarget as exc:
        raise ValidationError("url", str(exc)) from None
    return url


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise ValidationError("url", "this is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("url", "enter a full URL, such as https://hooks.example.com/consent")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("url", "a URL with a user name or password in it is not accepted")
    if parts.fragment:
        raise ValidationError("url", "remove the #fragment from the URL")
    return parts


def resolve(parts: SplitResult, policy: TargetPolicy) -> list[str]:
    """Every address the URL's host resolves to, once all of them are allowed (UnsafeTarget)."""
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeTarget(f"the host {host} cannot be resolved") from None
    addresses = sorted({info[4][0] for info in infos})
    for address in addresses:
        why = refusal(ipaddress.ip_address(address.split("%")[0]), policy)
        if why:
            raise UnsafeTarget(f"the host {host} resolves to {address}, {why}; use a public host")
    if not addresses:
        raise UnsafeTarget(f"the host {host} cannot be resolved")
    return addresses


def resolve_url(url: str, policy: TargetPolicy) -> tuple[SplitResult, list[str]]:
    """At send time: the URL's parts and its allowed addresses (UnsafeTarget otherwise)."""
    try:
        parts = _split(url)
    except ValidationError as exc:
        raise UnsafeTarget(exc.reason) from None
    if parts.scheme != "https" and not (parts.scheme == "http" and policy.allow_http):
        raise UnsafeTarget("plain http is not allowed here")
    return parts, resolve(parts, policy)
