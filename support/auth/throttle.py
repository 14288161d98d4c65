"""Failed password checks, counted per client address and per email in Flask-Limiter's storage.

Every password check first reserves one failure under both counters (one atomic increment each,
in memory or in Redis, so several processes share the count and parallel guesses cannot slip
past it); a correct password gives its reservations back. So only failures count, and once
either counter is used up the answer is the same whether the account exists or not.
"""

import hashlib
import math
import time
from dataclasses import dataclass, field

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.strategies import FixedWindowRateLimiter

from requests_queue.mailbox import canonical_address

EXTENSION = "login_throttle"


def register_throttle(app: Flask) -> None:
    """Give this app its own limiter, on the storage RATELIMIT_STORAGE_URI names."""
    # One Limiter per app (not a module-level one): its storage lives on the instance, and two
    # apps in one process (the tests) must not share a memory counter by accident.
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        strategy="fixed-window",
        headers_enabled=False,
    )
    app.extensions[EXTENSION] = limiter


@dataclass
class Attempt:
    """One password check's reservations; `retry_after` (seconds) is set when it is locked."""

    strategy: FixedWindowRateLimiter
    reserved: list[tuple[RateLimitItem, tuple[str, ...]]] = field(default_factory=list)
    retry_after: int | None = None

    @property
    def is_locked(self) -> bool:
        """True when this client or this email has used up its failures."""
        return self.retry_after is not None

    @property
    def locked_message(self) -> str:
        """What the password field says while it is locked."""
        return f"Too many failed attempts. Try again in {self.retry_after // 60} minute(s)."

    def succeeded(self) -> None:
        """The password was right: give the reserved failures back."""
        for item, identity in self.reserved:
            # A window that ended meanwhile starts at -1: one extra try, never a lock-out.
            self.strategy.hit(item, *identity, cost=-1)
        self.reserved.clear()


def begin_attempt(email: str) -> Attempt:
    """Reserve one failure for this client and this email before the password is checked."""
    limiter: Limiter = current_app.extensions[EXTENSION]
    attempt = Attempt(FixedWindowRateLimiter(limiter.storage))
    now = time.time()
    for item, identity in _counters(email):
        attempt.reserved.append((item, identity))
        if not attempt.strategy.hit(item, *identity):
            reset_at = attempt.strategy.get_window_stats(item, *identity).reset_time
            # Whole minutes, like the message: the answer must not depend on which counter
            # (or which account) is locked, nor on a second's difference between two requests.
            wait = 60 * max(1, math.ceil((reset_at - now) / 60))
            attempt.retry_after = max(attempt.retry_after or 0, wait)
    return attempt


def _counters(email: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    config = current_app.config
    window = max(1, round(config["LOGIN_LOCK_MINUTES"] * 60))
    # The address is hashed: the limiter's storage needs no list of who tried to log in.
    mailbox = hashlib.sha256(canonical_address(email).encode()).hexdigest()
    client = request.remote_addr or "unknown"
    return [
        (
            RateLimitItemPerSecond(config["LOGIN_MAX_FAILURES_PER_CLIENT"], window),
            ("consent-desk", "login-failures", "client", client),
        ),
        (
            RateLimitItemPerSecond(config["LOGIN_MAX_FAILURES"], window),
            ("consent-desk", "login-failures", "email", mailbox),
        ),
    ]
