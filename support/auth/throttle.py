"""Failed password checks, counted per client address and per email in Flask-Limiter's storage.

Every password check first reserves one failure under both counters (one atomic increment each,
in memory or in Redis, so several processes share the count and parallel guesses cannot slip
past it); a correct password gives its reservations back. So only failures count, and once
either counter is used up the answer is the same whether the account exists or not.
"""

import hashlib
import logging
import math
import time
from dataclasses import dataclass, field

from flask import Flask, current_app, request
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from requests_queue.mailbox import canonical_address

EXTENSION = "login_throttle"
UNAVAILABLE_WAIT = 30  # seconds: what Retry-After says while the counters can't be reached
log = logging.getLogger(__name__)


def register_throttle(app: Flask) -> None:
    """Give this app its own counters, in the storage RATELIMIT_STORAGE_URI names."""
    # One storage per app (not a module-level one): two apps in one process (the tests) must not
    # share a memory counter by accident. The `limits` storage is used directly, so no setting
    # (Flask-Limiter's RATELIMIT_ENABLED was one) can switch the login lock-out off by the way.
    app.extensions[EXTENSION] = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])


def counters() -> Storage:
    """This app's counter storage (memory, or Redis shared by every process)."""
    return current_app.extensions[EXTENSION]


class CountersUnavailable(Exception):
    """The counter storage (Redis) did not answer: no attempt can be counted, so none is made."""


@dataclass
class Attempt:
    """One password check's reservations; `retry_after` (seconds) is set when it is locked."""

    strategy: FixedWindowRateLimiter
    reserved: list[tuple[RateLimitItem, tuple[str, ...]]] = field(default_factory=list)
    retry_after: int | None = None
    unavailable: bool = False

    @property
    def is_locked(self) -> bool:
        """True when this client or this email has used up its failures, or nothing can count."""
        return self.retry_after is not None

    @property
    def status(self) -> int:
        """429 for a lock-out; 503 while the counters can't be reached (fail closed, not a 500)."""
        return 503 if self.unavailable else 429

    @property
    def locked_message(self) -> str:
        """What the password field says while it is locked."""
        if self.unavailable:
            return "Signing in is unavailable for a moment. Try again in a minute."
        return f"Too many failed attempts. Try again in {self.retry_after // 60} minute(s)."

    def succeeded(self) -> None:
        """The password was right: give the reserved failures back."""
        for item, identity in self.reserved:
            # A window that ended meanwhile starts at -1: one extra try, never a lock-out.
            self.strategy.hit(item, *identity, cost=-1)
        self.reserved.clear()


def begin_attempt(email: str) -> Attempt:
    """Reserve one failure for this client and this email before the password is checked.

    When the storage does not answer, the attempt is refused (503): a password checked without
    being counted would let guesses through for as long as Redis is away.
    """
    attempt = Attempt(FixedWindowRateLimiter(counters()))
    now = time.time()
    try:
        for item, identity in _counters(email):
            attempt.reserved.append((item, identity))
            if not attempt.strategy.hit(item, *identity):
                reset_at = attempt.strategy.get_window_stats(item, *identity).reset_time
                # Whole minutes, like the message: the answer must not depend on which counter
                # (or which account) is locked, nor on a second's difference between requests.
                wait = 60 * max(1, math.ceil((reset_at - now) / 60))
                attempt.retry_after = max(attempt.retry_after or 0, wait)
    except Exception:  # noqa: BLE001  (each storage backend raises its own connection errors)
        where = current_app.config["RATELIMIT_STORAGE_URI"].rsplit("@", 1)[-1]  # no password
        log.exception("login counters unreachable (%s)", where)
        attempt.reserved.clear()
        attempt.unavailable, attempt.retry_after = True, UNAVAILABLE_WAIT
    return attempt


def hit_or_wait(item: RateLimitItem, *identity: str) -> int | None:
    """Count one hit; None while within `item`, else the seconds until the window resets.

    Raises CountersUnavailable when the storage does not answer.
    """
    strategy = FixedWindowRateLimiter(counters())
    try:
        if strategy.hit(item, *identity):
            return None
        reset_at = strategy.get_window_stats(item, *identity).reset_time
    except Exception as exc:  # noqa: BLE001  (each storage backend raises its own errors)
        log.exception("rate counters unreachable")
        raise CountersUnavailable from exc
    return max(1, math.ceil(reset_at - time.time()))


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
