"""Email waiting to go out, written in the same transaction as the change that caused it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..enums import TitledEnum
from ..now import now_utc
from .base import Base, UTCDateTime, enum_column


class OutboxState(TitledEnum):
    """Where a message is in its delivery."""

    pending = ("pending", "Waiting to be sent")
    sending = ("sending", "Being sent")
    sent = ("sent", "Sent")
    failed = ("failed", "Failed")


class OutboxMessage(Base):
    """One email to one recipient; the sender moves it pending → sending → sent or failed.

    `claimed_by`/`claimed_at` name the sender run that holds a `sending` message;
    `handed_over_at` is committed just before the message goes to the SMTP server, so after a
    crash the sender knows which messages may have arrived (see requests_queue/mail/sender.py).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The sender's scan: due pending messages, oldest first.
        sa.Index("ix_outbox_messages_due", "state", "next_attempt_at", "id"),
        sa.Index("ix_outbox_messages_account", "account_id", "id"),
        # A campaign's progress: its messages counted by state.
        sa.Index("ix_outbox_messages_campaign", "campaign_id", "state"),
        # The confirmation one recipient was sent, for the proof-of-consent export.
        sa.Index("ix_outbox_messages_campaign_to", "campaign_id", "to_address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))  # e.g. request_filed, double_opt_in
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    state: Mapped[OutboxState] = mapped_column(
        enum_column(OutboxState, "outbox_state"), default=OutboxState.pending
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_error: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What caused it, for the pages that show a message's history.
    request_id: Mapped[int | None] = mapped_column()
    campaign_id: Mapped[int | None] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    @property
    def is_uncertain(self) -> bool:
        """Failed because its sender died while handing it over: it may have arrived."""
        return self.state is OutboxState.failed and self.handed_over_at is not None
