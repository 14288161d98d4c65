"""What the SLA sweep records: each threshold a request crossed (once), and the daily digests."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now_utc
from .base import Base, TitledEnum, UTCDateTime, enum_column


class SlaThreshold(TitledEnum):
    """A deadline of the 3–5 business-day promise (DOMAIN.md: SLA)."""

    at_risk = ("at_risk", "At risk")  # past the due time (3 business days), not decided
    breached = ("breached", "Breached")  # past 5 business days without a decision


class SlaEvent(Base):
    """A request crossed a threshold: recorded exactly once, kept after the request closes.

    `notified_at` is set in the transaction that queued the notification, so each threshold
    is announced once; a request decided or closed before anyone was told is marked notified
    with an empty `notified_to`.
    """

    __tablename__ = "sla_events"
    __table_args__ = (
        sa.UniqueConstraint("request_id", "threshold", name="uq_sla_events_request_threshold"),
        sa.Index("ix_sla_events_pending", "notified_at", "threshold"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("consent_requests.id"))
    threshold: Mapped[SlaThreshold] = mapped_column(enum_column(SlaThreshold, "sla_threshold"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_to: Mapped[str] = mapped_column(sa.String(500), default="")


class SlaClock(Base):
    """A request's deadlines as the sweep last computed them from its timeline (a cache).

    Kept for requests whose clock paused at least once and for recently closed ones, which
    the sweep cannot select with plain SQL. A row is valid only for the request's latest
    event and the calendar it was computed with (`calendar_key`); otherwise it is recomputed.
    Deleting every row is always safe.
    """

    __tablename__ = "sla_clocks"

    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("consent_requests.id"), primary_key=True, autoincrement=False
    )
    last_event_id: Mapped[int]
    calendar_key: Mapped[str] = mapped_column(sa.String(40))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    breach_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class SlaDigest(Base):
    """One daily digest to the managers per team-local date (the primary key makes it once)."""

    __tablename__ = "sla_digests"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    recipients: Mapped[int] = mapped_column(default=0)
