"""One delivery from a provider: authenticate, read, store in one insert, apply set-based."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models.feedback import FeedbackFeed, FeedProvider
from .intake import remember_nonce, store_events
from .parsing import parse, parse_ses
from .processing import apply_pending
from .reported import BadPayload, Reported
from .signatures import (
    Refused,
    bad,
    check_basic_auth,
    check_mailgun,
    check_sendgrid,
    check_standard,
)
from .sns import CertFetcher, check_sns, is_sns_url

P = FeedProvider


@dataclass
class Receipt:
    """What became of a delivery: events read, newly stored, and their outcomes."""

    received: int = 0
    new: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def as_json(self) -> dict:
        """The answer the provider gets."""
        body = {"received": self.received, "new": self.new, "duplicates": self.received - self.new}
        return body | ({"note": self.note} if self.note else {})


def receive_delivery(
    session: Session,
    feed: FeedbackFeed,
    body: bytes,
    headers,
    secret: str,
    now: datetime,
    fetch_certificate: CertFetcher,
) -> Receipt:
    """Check who sent `body`, then store and apply its events. Raises Refused or BadPayload.

    `headers` is case-insensitive (werkzeug's Headers); `secret` is the feed's opened
    credential. Flushes, never commits: a refusal is rolled back by the caller.
    """
    if feed.secret_sealed and not secret:
        # Sealed with a SECRET_KEY the server no longer has: refuse rather than check nothing
        # (a Postmark feed would otherwise fall back to its URL alone).
        raise bad("this feed's key cannot be opened since the server's SECRET_KEY changed; "
                  "set it again on the feed's page")  # fmt: skip
    if feed.provider is P.ses:
        return _receive_sns(session, feed, body, now, fetch_certificate)
    message_id = ""
    if feed.provider is P.postmark:
        check_basic_auth(headers.get("Authorization"), feed.username, secret)
        nonce = None
    elif feed.provider is P.sendgrid:
        nonce = check_sendgrid(body, headers, secret, now)
    elif feed.provider is P.mailgun:
        nonce = check_mailgun(body, secret, now)
    else:
        nonce = check_standard(body, headers, secret, now)
        message_id = headers.get("webhook-id", "")
    if nonce:
        remember_nonce(session, feed, nonce, now)
    return ingest(session, feed, parse(feed.provider, body, now, message_id), now)


def ingest(session: Session, feed: FeedbackFeed, events: list[Reported], now: datetime) -> Receipt:
    """Store `events` (one insert per thousand) and apply every pending event of the feed."""
    stored = store_events(session, feed, events, now) if events else Counter()
    outcomes = Counter({k: v for k, v in stored.items() if k != "pending"})
    if stored["pending"]:
        outcomes.update(apply_pending(session, feed, now))
    return Receipt(received=len(events), new=sum(stored.values()), outcomes=dict(outcomes))


def _receive_sns(session, feed, body: bytes, now, fetch_certificate) -> Receipt:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise bad("the body is not an SNS message") from None
    if not isinstance(message, dict):
        raise bad("the body is not an SNS message")
    remember = check_sns(message, fetch_certificate, now)
    if feed.topic_arn and message.get("TopicArn") != feed.topic_arn:
        raise Refused("bad_signature", "the message comes from another SNS topic")
    remember_nonce(session, feed, remember, now)
    kind = message.get("Type")
    if kind == "SubscriptionConfirmation":
        url = str(message.get("SubscribeURL", ""))
        if not is_sns_url(url):
            raise BadPayload("the SubscribeURL is not on an SNS host")
        session.execute(
            sa.update(FeedbackFeed)
            .where(FeedbackFeed.id == feed.id)
            .values(subscribe_url=url[:1000], subscription_confirmed_at=None)
        )
        return Receipt(note="subscription recorded: the account owner confirms it")
    if kind != "Notification":
        return Receipt(note=f"{kind} noted")
    if feed.subscription_confirmed_at is None:
        session.execute(
            sa.update(FeedbackFeed)
            .where(FeedbackFeed.id == feed.id)
            .values(subscription_confirmed_at=now, subscribe_url="")
        )
    return ingest(session, feed, parse_ses(message, now), now)
