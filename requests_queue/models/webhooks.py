"""Webhooks to the platform: endpoints, the events each wants, and deliveries waiting to go out.

A delivery is written in the same transaction as the change that caused it (like the email
outbox) and sent by the scheduler's `deliver_webhooks` job (requests_queue/webhooks/sender.py).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..now import now_utc
from .base import Base, TitledEnum, UTCDateTime, enum_column


class WebhookEvent(TitledEnum):
    """What an endpoint can ask to hear about; the value is the payload's `type`."""

    request_filed = ("request.filed", "Request filed")
    request_state_changed = ("request.state_changed", "Request state changed")
    request_decided = ("request.decided", "Request decided (with counts)")
    sla_at_risk = ("sla.at_risk", "SLA at risk")
    sla_breached = ("sla.breached", "SLA breached")
    address_status_changed = ("address.status_changed", "Address status changed (batched)")


# Managers' (desk-wide) endpoints hear every account's requests and SLA, never addresses.
DESK_EVENTS = (
    WebhookEvent.request_filed,
    WebhookEvent.request_state_changed,
    WebhookEvent.request_decided,
    WebhookEvent.sla_at_risk,
    WebhookEvent.sla_breached,
)


class DeliveryState(TitledEnum):
    """Where a delivery is: pending → sending → delivered, or failed after 24 hours."""

    pending = ("pending", "Waiting")
    sending = ("sending", "Being sent")
    delivered = ("delivered", "Delivered")
    failed = ("failed", "Failed")


class WebhookEndpoint(Base):
    """A URL that receives signed events: an account's own (`account_id`), or the desk's
    (`account_id` NULL, managed by managers, hearing every account's requests and SLA)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (sa.Index("ix_webhook_endpoints_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    url: Mapped[str] = mapped_column(sa.String(2000))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    # "whsec_" + base64 of 32 random bytes (Standard Webhooks). Kept (an HMAC needs the key
    # itself), shown to the endpoint's owner once, when created or rotated.
    secret: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    subscriptions = relationship(
        "WebhookSubscription", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def events(self) -> list[WebhookEvent]:
        """The events it wants, in the order of WebhookEvent."""
        wanted = {s.event for s in self.subscriptions}
        return [e for e in WebhookEvent if e in wanted]

    @property
    def is_desk_wide(self) -> bool:
        """A managers' endpoint: every account's requests and SLA."""
        return self.account_id is None


class WebhookSubscription(Base):
    """One event an endpoint wants (a row per pair, so queueing is a plain join)."""

    __tablename__ = "webhook_subscriptions"

    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), primary_key=True
    )
    event: Mapped[WebhookEvent] = mapped_column(
        enum_column(WebhookEvent, "webhook_event"), primary_key=True
    )


class WebhookDelivery(Base):
    """One message to one endpoint, its body fixed when queued; `msg_<id>` is its webhook-id.

    AUTOINCREMENT on SQLite: an id is never reused after old rows are deleted, so a receiver
    that remembers webhook-ids never mistakes a new message for one it has seen.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The sender's scan: due pending deliveries, oldest first.
        sa.Index("ix_webhook_deliveries_due", "state", "next_attempt_at", "id"),
        # An endpoint's page: its latest deliveries.
        sa.Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    event: Mapped[WebhookEvent] = mapped_column(enum_column(WebhookEvent, "webhook_event"))
    payload: Mapped[str] = mapped_column(sa.Text)  # the exact body that is signed and sent
    change_count: Mapped[int] = mapped_column(default=1)  # address changes carried
    state: Mapped[DeliveryState] = mapped_column(
        enum_column(DeliveryState, "webhook_delivery_state"), default=DeliveryState.pending
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # Tried until then (24 hours after queueing, or after a manager's or owner's retry).
    give_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last answer: HTTP status (None: no answer), an excerpt of its body, or the error.
    last_status: Mapped[int | None] = mapped_column()
    last_response: Mapped[str] = mapped_column(sa.String(500), default="")
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")

    @property
    def message_id(self) -> str:
        """The webhook-id header: the same on every retry of this delivery."""
        return f"msg_{self.id}"
