"""How big a request may be before its approval needs a second agent (four-eyes approval)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..now import now_utc
from .base import Base, UTCDateTime

DEFAULT_SECOND_REVIEW_THRESHOLD = 10_000


class ApprovalSettings(Base):
    """The one row of approval settings (id is always 1); absent until a manager saves."""

    __tablename__ = "approval_settings"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("second_review_threshold >= 0", name="threshold_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    # A request of more addresses than this needs a second agent's confirmation.
    second_review_threshold: Mapped[int] = mapped_column(default=DEFAULT_SECOND_REVIEW_THRESHOLD)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
