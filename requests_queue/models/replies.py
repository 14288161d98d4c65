"""Saved replies: texts agents pick for questions to customers and rejection messages."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..now import now_utc
from .base import Base, TitledEnum, UTCDateTime, enum_column


class ReplyPurpose(TitledEnum):
    """Which form a saved reply is offered on."""

    question = ("question", "Question to the customer")
    rejection = ("rejection", "Rejection message")


class SavedReply(Base):
    """A reply text with placeholders; shared (no owner, curated by managers) or personal."""

    __tablename__ = "saved_replies"
    __table_args__ = (sa.Index("ix_saved_replies_owner", "owner_id", "purpose", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL: shared by the whole desk; otherwise the one agent or manager who may use it.
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    purpose: Mapped[ReplyPurpose] = mapped_column(enum_column(ReplyPurpose, "reply_purpose"))
    title: Mapped[str] = mapped_column(sa.String(80))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    owner = relationship("User")

    @property
    def is_shared(self) -> bool:
        """Offered to every agent; only managers change it."""
        return self.owner_id is None

    def __repr__(self) -> str:
        return f"<SavedReply {self.id} {self.purpose.value} {self.title!r}>"
