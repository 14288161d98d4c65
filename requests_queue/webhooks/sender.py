"""Delivering webhooks: claim due deliveries, POST each signed, record the answer.

Delivery is AT LEAST ONCE, as Standard Webhooks expects: a receiver keeps the webhook-ids it
has processed. A delivery is claimed with a row lock (FOR UPDATE SKIP LOCKED on PostgreSQL;
SQLite's single writer makes the conditional UPDATE pending → sending atomic), so two
schedulers or `flask` processes never send one at the same time; the outcome is written only
while the claim is still ours. A claim left by a dead sender goes back to pending after
`claim_timeout` and is sent again with the same webhook-id.

A failed try (no answer, or anything but a 2xx) waits `RetryPolicy.delay` — 30 s doubling up
to 2 h — and is tried until `give_up_at` (24 hours after queueing), the last try exactly
then; a failure at or after it marks the delivery failed, shown on its owner's settings page
with the last answer.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..claiming import Backoff, claim_due
from ..models.webhooks import DeliveryState, WebhookDelivery, WebhookEndpoint
from ..now import now_utc
from . import http, signing
from .targets import TargetPolicy, UnsafeTarget, resolve_url

D, E = WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True)
class RetryPolicy(Backoff):
    """Webhooks' backoff (`claiming.Backoff`); tried until the delivery's give_up_at."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=2)
    claim_timeout: timedelta = timedelta(minutes=10)


DEFAULT_POLICY = RetryPolicy()


@dataclass
class SendReport:
    """What one run did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0  # claims of a dead sender put back
    deferred: int = 0  # not tried: their endpoint had just failed in this run
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """Counts for the job's record."""
        return {
            "delivered": self.delivered,
            "retrying": self.retrying,
            "failed": self.failed,
            "released": self.released,
            "deferred": self.deferred,
        }


@dataclass(frozen=True)
class SendSettings:
    """How the sender behaves; from the app's configuration in the job."""

    targets: TargetPolicy = TargetPolicy()
    timeout: float = 10.0  # seconds per try (connect, then each read)
    batch_size: int = 50
    budget: float = 40.0  # seconds after which a run claims nothing more

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SendSettings:
        """WEBHOOKS_ALLOW_LOOPBACK, WEBHOOKS_ALLOW_HTTP, WEBHOOKS_TIMEOUT_SECONDS."""
        return cls(
            targets=TargetPolicy.from_settings(settings),
            timeout=float(settings.get("WEBHOOKS_TIMEOUT_SECONDS") or 10.0),
        )


def deliver_webhooks(
    session: Session,
    settings: SendSettings = SendSettings(),
    *,
    now: Callable[[], datetime] = now_utc,
    policy: RetryPolicy = DEFAULT_POLICY,
    should_stop: Callable[[], bool] = lambda: False,
) -> SendReport:
    """Send every due delivery, batch by batch, within the run's time budget; commits.

    `now` is the clock that decides what is due and when to try again (tests move it); the
    signature's webhook-timestamp is always the real time of the try.
    """
    report = SendReport()
    report.released = reclaim_stuck(session, now(), policy)
    session.commit()
    started = time.monotonic()
    while not should_stop() and time.monotonic() - started < settings.budget:
        token = uuid.uuid4().hex
        ids = claim_batch(session, token, now(), settings.batch_size)
        session.commit()
        if not ids:
            break
        _send_batch(session, token, ids, settings, now, policy, report, should_stop)
    return report


def claim_batch(session: Session, token: str, now: datetime, size: int) -> list[int]:
    """Mark up to `size` due pending deliveries as sending under `token`; return their ids."""
    return claim_due(session, D, DeliveryState.pending, DeliveryState.sending, token, now, size)


def reclaim_stuck(session: Session, now: datetime, policy: RetryPolicy = DEFAULT_POLICY) -> int:
    """Claims older than the timeout belong to a dead sender: back to pending."""
    return session.execute(
        sa.update(D)
        .where(D.state == DeliveryState.sending, D.claimed_at < now - policy.claim_timeout)
        .values(state=DeliveryState.pending, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def _send_batch(session, token, ids, settings, now, policy, report, should_stop) -> None:
    rows = session.execute(
        sa.select(D.id, D.endpoint_id, D.payload, D.attempts, D.give_up_at, E.url, E.secret)
        .join(E, E.id == D.endpoint_id)
        .where(D.id.in_(ids))
        .order_by(D.id)
    ).all()
    session.commit()  # no transaction stays open while we wait on the network
    broken: dict[int, datetime] = {}  # endpoints that failed in this run: their next try
    for row in rows:
        if should_stop():
            _release(session, token, row.id, None)
            continue
        if row.endpoint_id in broken:
            _release(session, token, row.id, broken[row.endpoint_id])
            report.deferred += 1
            continue
        answer = _attempt(row, settings)
        at = now()
        if answer.is_success:
            _record(session, token, row.id, answer, at, state=DeliveryState.delivered)
            report.delivered += 1
            continue
        attempts = row.attempts + 1
        if at >= row.give_up_at:
            _record(session, token, row.id, answer, at, state=DeliveryState.failed)
            report.failed += 1
        else:
            later = min(at + policy.delay(attempts), row.give_up_at)
            _record(session, token, row.id, answer, at, state=DeliveryState.pending, later=later)
            broken[row.endpoint_id] = later
            report.retrying += 1
        if len(report.errors) < 5:
            report.errors.append(answer.error or f"HTTP {answer.status}")


def _attempt(row, settings: SendSettings) -> http.Answer:
    """One signed POST, to an address resolved (and checked) just now."""
    try:
        parts, addresses = resolve_url(row.url, settings.targets)
    except UnsafeTarget as exc:
        return http.Answer(None, error=f"refused: {exc}")
    message_id = f"msg_{row.id}"
    headers = signing.headers(row.secret, message_id, int(time.time()), row.payload)
    headers["user-agent"] = "ConsentDesk-Webhooks/1"
    return http.post(parts, addresses, row.payload.encode(), headers, settings.timeout)


def _record(session, token, delivery_id, answer, at, *, state, later=None) -> None:
    values = {
        "state": state,
        "attempts": D.attempts + 1,
        "last_attempt_at": at,
        "last_status": answer.status,
        "last_response": answer.body[: http.EXCERPT],
        "last_error": answer.error[: http.EXCERPT],
        "claimed_by": None,
        "claimed_at": None,
    }
    if state is DeliveryState.delivered:
        values["delivered_at"] = at
    if later is not None:
        values["next_attempt_at"] = later
    _update(session, token, delivery_id, values)


def _release(session, token, delivery_id, later: datetime | None) -> None:
    values = {"state": DeliveryState.pending, "claimed_by": None, "claimed_at": None}
    if later is not None:
        values["next_attempt_at"] = later
    _update(session, token, delivery_id, values)


def _update(session: Session, token: str, delivery_id: int, values: dict) -> None:
    # Only while the claim is ours: a claim taken over after the timeout is the other's now.
    session.execute(
        sa.update(D)
        .where(D.id == delivery_id, D.claimed_by == token, D.state == DeliveryState.sending)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
