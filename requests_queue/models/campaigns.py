"""Double opt-in campaigns: one confirmation email per eligible address, and what came of it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now_utc
from .base import Base, TitledEnum, UTCDateTime, enum_column


class CampaignTemplate(TitledEnum):
    """Where a campaign's subject and text came from."""

    provided = ("provided", "Provided template")
    custom = ("custom", "Own subject and text")


class Campaign(Base):
    """A customer's batch of double opt-in confirmations, queued at once through the outbox."""

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

    user = relationship("User")


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
        # "Sent a confirmation in the last 7 days" looks an address up by time.
        sa.Index("ix_campaign_recipients_address_created", "address_id", "created_at"),
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
