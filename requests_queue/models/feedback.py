"""Provider feedback (issue 13): the feeds an account receives and every event they carried."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..now import now_utc
from .base import Base, TitledEnum, UTCDateTime, enum_column


class FeedProvider(TitledEnum):
    """Whose feedback format a feed speaks."""

    ses = ("ses", "Amazon SES (through SNS)")
    postmark = ("postmark", "Postmark")
    sendgrid = ("sendgrid", "SendGrid event webhook")
    mailgun = ("mailgun", "Mailgun")
    standard = ("standard", "Generic JSON (Standard Webhooks)")


class FeedbackKind(TitledEnum):
    """What the provider reported about one address."""

    hard_bounce = ("hard_bounce", "Hard bounce")
    soft_bounce = ("soft_bounce", "Soft bounce")
    complaint = ("complaint", "Spam complaint")
    unsubscribe = ("unsubscribe", "Unsubscribed at the provider")
    other = ("other", "Other (not acted on)")


class FeedbackOutcome(TitledEnum):
    """What processing did with one event."""

    pending = ("pending", "Waiting to be processed")
    applied = ("applied", "Status changed")
    unchanged = ("unchanged", "Status kept (the rules allow no change)")
    unknown_address = ("unknown_address", "Unknown address")
    soft_counted = ("soft_counted", "Soft bounce counted")
    soft_threshold = ("soft_threshold", "Soft-bounce threshold reached")
    ignored = ("ignored", "Not acted on")


class FeedbackFeed(Base):
    """One provider feed of an account: its secret URL id, its credentials and its counters.

    `public_id` is the unguessable part of the feed's URL. `secret_sealed` holds the
    credential (signing key, basic-auth password, SendGrid public key) encrypted with a key
    derived from SECRET_KEY (requests_queue/feedback/sealing.py); pages show only `secret_hint`.
    """

    __tablename__ = "feedback_feeds"
    __table_args__ = (sa.Index("ix_feedback_feeds_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    provider: Mapped[FeedProvider] = mapped_column(enum_column(FeedProvider, "feed_provider"))
    name: Mapped[str] = mapped_column(sa.String(80))
    public_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    secret_sealed: Mapped[str] = mapped_column(sa.Text, default="")
    secret_hint: Mapped[str] = mapped_column(sa.String(40), default="")
    username: Mapped[str] = mapped_column(sa.String(80), default="")  # Postmark basic auth
    topic_arn: Mapped[str] = mapped_column(sa.String(256), default="")  # SES: only this topic
    soft_bounce_limit: Mapped[int] = mapped_column(default=3)
    soft_bounce_window_hours: Mapped[int] = mapped_column(default=72)
    # SES: the SNS subscription waiting for the owner's confirmation.
    subscribe_url: Mapped[str] = mapped_column(sa.String(1000), default="")
    subscription_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bad_signature_count: Mapped[int] = mapped_column(default=0)
    last_bad_signature_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refused_count: Mapped[int] = mapped_column(default=0)  # stale or replayed deliveries
    last_refusal: Mapped[str] = mapped_column(sa.String(200), default="")
    last_refusal_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    @property
    def cause_label(self) -> str:
        """How a status event names this feed."""
        return f"{self.provider.title} feed “{self.name}”"


class FeedbackEvent(Base):
    """One event a provider reported, stored as received; only its outcome changes later.

    The provider's event id is unique per feed, so a redelivery is stored once and applied
    once. An address the account does not hold is kept with `address_id` empty.
    """

    __tablename__ = "feedback_events"
    __table_args__ = (
        sa.UniqueConstraint("feed_id", "provider_event_id", name="uq_feedback_events_feed_event"),
        sa.Index("ix_feedback_events_account", "account_id", "id"),
        sa.Index("ix_feedback_events_outcome", "feed_id", "outcome"),
        sa.Index("ix_feedback_events_address", "address_id", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_feeds.id"))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    provider_event_id: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[FeedbackKind] = mapped_column(enum_column(FeedbackKind, "feedback_kind"))
    raw_address: Mapped[str] = mapped_column(sa.String(320))
    address: Mapped[str] = mapped_column(sa.String(320))  # canonical, or raw if it has none
    address_id: Mapped[int | None] = mapped_column(sa.ForeignKey("email_addresses.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[FeedbackOutcome] = mapped_column(
        enum_column(FeedbackOutcome, "feedback_outcome"), default=FeedbackOutcome.pending
    )
    detail: Mapped[str] = mapped_column(sa.String(500), default="")

    feed: Mapped[FeedbackFeed] = relationship()


class FeedbackNonce(Base):
    """A signed delivery seen recently (its token, id or signature), so a replay is refused.

    Kept a little longer than the 5 minutes a signature is accepted; older rows are pruned.
    """

    __tablename__ = "feedback_nonces"
    __table_args__ = (sa.Index("ix_feedback_nonces_seen", "seen_at"),)

    feed_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_feeds.id"), primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
