"""Double opt-in campaigns: one confirmation email per eligible address, and what came of it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..now import now_utc
from .base import Base, TitledEnum, UTCDateTime, enum_column


class CampaignTemplate(TitledEnum):
    """Where a campaign's subject and text came from."""

    provided = ("provided", "Provided template")
    custom = ("custom", "Own subject and text")


class CampaignState(TitledEnum):
    """Where the queueing of a campaign's emails stands (sending is the outbox's business)."""

    queueing = ("queueing", "Preparing the emails")
    queued = ("queued", "Queued")
    failed = ("failed", "Stopped")


class Campaign(Base):
    """A customer's batch of double opt-in confirmations, queued through the outbox.

    The customer's click records the campaign (state `queueing`) with its selection frozen;
    a background run then writes the recipients and messages in chunks of addresses, in
    (contact, field) order, each chunk one transaction that moves `queued_through` and
    `queued_field` on, so a run that dies is resumed where it stopped and never writes an
    address twice.
    """

    __tablename__ = "campaigns"
    __table_args__ = (sa.Index("ix_campaigns_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    selection: Mapped[str] = mapped_column(sa.String(500))  # human-readable description
    fields: Mapped[str] = mapped_column(sa.String(40))  # comma-separated EmailField values
    template: Mapped[CampaignTemplate] = mapped_column(
        enum_column(CampaignTemplate, "campaign_template")
    )
    # As the customer wrote them, placeholders included; each message has its own links.
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    recipient_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    skipped_by_reason: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    state: Mapped[CampaignState] = mapped_column(
        enum_column(CampaignState, "campaign_state"), default=CampaignState.queued
    )
    # The selection as chosen (search, tag_id, import_batch_id, status); `fields` above.
    selection_filter: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    expected_count: Mapped[int] = mapped_column(default=0)  # eligible in the preview sent from
    last_address_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # newest at the click
    # Where the run got to, in the (contact, field) order it writes in: the last one done.
    queued_through: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    queued_field: Mapped[str] = mapped_column(sa.String(32), default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(sa.String(500), default="")

    user = relationship("User")

    @property
    def percent(self) -> int:
        """How far the queueing is, by the preview's count (100 once queued)."""
        if self.state is not CampaignState.queueing:
            return 100
        if not self.expected_count:
            return 0
        return min(99, 100 * self.recipient_count // self.expected_count)


class CampaignRecipient(Base):
    """One address a campaign wrote to: its link's nonce and what the recipient did.

    Its message is the outbox row with the same campaign_id and to_address (an address is
    unique in its account), and the delivery state is that row's state: the sender is the only
    writer of delivery state, so it is never kept twice. (A foreign key to the outbox row would
    need the ids back from a 100,000-row insert, which costs more than the rest of queueing.)
    The links' tokens are kept here because the messages are written from these rows in one
    INSERT … SELECT; they are the same secrets the message bodies hold.
    """

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "address_id", name="uq_campaign_recipients_address"),
        # An address's confirmations, by time (its history, the proof of consent).
        sa.Index("ix_campaign_recipients_address_created", "address_id", "created_at"),
        # "Sent a confirmation in the last 7 days": each of the account's campaigns' recent
        # recipients, read once per statement (`campaigns.eligibility`).
        sa.Index("ix_campaign_recipients_campaign_created", "campaign_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    address_id: Mapped[int] = mapped_column(sa.ForeignKey("email_addresses.id"))
    address: Mapped[str] = mapped_column(sa.String(254))  # as written to; links are bound to it
    # Part of every link of this recipient; replacing it would revoke the links.
    token_nonce: Mapped[str] = mapped_column(sa.String(16))
    # The signed links' tokens, as written into the message (so it can be written set-based).
    confirm_token: Mapped[str] = mapped_column(sa.String(120))
    unsubscribe_token: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    token_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # confirm link, once
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()
