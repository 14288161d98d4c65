"""An account's feeds: create and edit them, with each provider's credential checked first."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationError
from ..models.feedback import FeedbackFeed, FeedProvider
from .sealing import Sealer, hint
from .signatures import load_sendgrid_key

P = FeedProvider
# Which credential each provider needs, and what the form calls it.
SECRET_REQUIRED = {P.sendgrid, P.mailgun, P.standard}

PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class FeedSettings:
    """What the account sets on a feed; an empty `secret` on an edit keeps the stored one."""

    name: str
    is_enabled: bool = True
    secret: str = ""
    username: str = ""
    topic_arn: str = ""
    soft_bounce_limit: int = 3
    soft_bounce_window_hours: int = 72


def _check(provider: FeedProvider, settings: FeedSettings, has_secret: bool) -> None:
    if not settings.name.strip():
        raise ValidationError("name", "give the feed a name")
    if provider in SECRET_REQUIRED and not (settings.secret or has_secret):
        raise ValidationError("secret", "this provider signs its feed: paste its key")
    if settings.secret and provider is P.sendgrid:
        try:
            load_sendgrid_key(settings.secret)
        except ValueError as exc:
            raise ValidationError("secret", str(exc)) from None
    if settings.secret and provider is P.standard:
        from standardwebhooks import Webhook

        try:
            Webhook(settings.secret)
        except Exception:
            raise ValidationError("secret", "not a Standard Webhooks secret (whsec_…)") from None
    if provider is P.postmark and bool(settings.username) != bool(settings.secret or has_secret):
        raise ValidationError("username", "basic auth needs both a user name and a password")
    if settings.topic_arn and not settings.topic_arn.startswith("arn:aws"):
        raise ValidationError("topic_arn", "an SNS topic ARN starts with arn:aws")
    if not 1 <= settings.soft_bounce_limit <= 100:
        raise ValidationError("soft_bounce_limit", "between 1 and 100")
    if not 1 <= settings.soft_bounce_window_hours <= 24 * 90:
        raise ValidationError("soft_bounce_window_hours", "between 1 hour and 90 days")


def create_feed(
    session: Session,
    account_id: int,
    provider: FeedProvider,
    settings: FeedSettings,
    sealer: Sealer,
    now: datetime,
) -> FeedbackFeed:
    """Add a feed to the account with a new unguessable URL id; flushes."""
    _check(provider, settings, has_secret=False)
    feed = FeedbackFeed(account_id=account_id, provider=provider, created_at=now)
    feed.public_id = secrets.token_urlsafe(32)
    _apply(feed, settings, sealer)
    session.add(feed)
    session.flush()
    return feed


def update_feed(
    session: Session, feed: FeedbackFeed, settings: FeedSettings, sealer: Sealer
) -> FeedbackFeed:
    """Change a feed's settings; an empty secret keeps the stored one. Flushes."""
    _check(feed.provider, settings, has_secret=bool(feed.secret_sealed))
    _apply(feed, settings, sealer)
    session.flush()
    return feed


def _apply(feed: FeedbackFeed, settings: FeedSettings, sealer: Sealer) -> None:
    feed.name = settings.name.strip()[:80]
    feed.is_enabled = settings.is_enabled
    feed.username = settings.username.strip()[:80]
    feed.topic_arn = settings.topic_arn.strip()[:256]
    feed.soft_bounce_limit = settings.soft_bounce_limit
    feed.soft_bounce_window_hours = settings.soft_bounce_window_hours
    if settings.secret:
        feed.secret_sealed = sealer.seal(settings.secret.strip())
        feed.secret_hint = hint(settings.secret.strip())


def own_feed(session: Session, account_id: int, feed_id: int) -> FeedbackFeed:
    """The account's feed `feed_id`; another account's is NotFound (a 404)."""
    feed = session.get(FeedbackFeed, feed_id)
    if feed is None or feed.account_id != account_id:
        raise NotFound("no such feed")
    return feed


def account_feeds(session: Session, account_id: int) -> list[FeedbackFeed]:
    """The account's feeds, oldest first."""
    return list(
        session.scalars(
            sa.select(FeedbackFeed)
            .where(FeedbackFeed.account_id == account_id)
            .order_by(FeedbackFeed.id)
        )
    )


def feed_by_public_id(session: Session, public_id: str) -> FeedbackFeed | None:
    """The enabled feed whose URL carries `public_id`, if any (ids are URL-safe base64: any
    other character, a NUL say, cannot name a feed and never reaches the database)."""
    if not PUBLIC_ID.fullmatch(public_id):
        return None
    return session.scalar(
        sa.select(FeedbackFeed).where(FeedbackFeed.public_id == public_id, FeedbackFeed.is_enabled)
    )
