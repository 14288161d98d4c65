"""What the SLA code stores: thresholds crossed (once each) and daily digests (a request's clock
is stored on its own row: `ConsentRequest.clock_*`)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..now import now_utc
from .base import Base, TitledEnum, UTCDateTime, enum_column


class SlaThreshold(TitledEnum):
    """A deadline of the 3–5 business-day promise (DOMAIN.md: SLA)."""

    at_risk = ("at_risk", "At risk")  # past the due time (3 business days), not decided
    breached = ("breached", "Breached")  # past 5 business days without a decision


class SlaEvent(Base):
    """A request crossed a threshold: recorded exactly once, kept after the request closes.

    `notified_at` is set in the transaction that queued the notification, so each threshold
    is announced once. A request decided or closed before anyone was told, and an at-risk
    mark overtaken by the breach, are marked notified with an empty `notified_to`.
    """

    __tablename__ = "sla_events"
    __table_args__ = (
        sa.UniqueConstraint("request_id", "threshold", name="uq_sla_events_request_threshold"),
        # Marks waiting for business hours: few, so the index holds only those.
        sa.Index(
            "ix_sla_events_pending",
            "threshold",
            sqlite_where=sa.text("notified_at IS NULL"),
            postgresql_where=sa.text("notified_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("consent_requests.id"))
    threshold: Mapped[SlaThreshold] = mapped_column(enum_column(SlaThreshold, "sla_threshold"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_to: Mapped[str] = mapped_column(sa.String(500), default="")


class SlaDigest(Base):
    """One daily digest to the managers per team-local date (the primary key makes it once)."""

    __tablename__ = "sla_digests"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    recipients: Mapped[int] = mapped_column(default=0)


class SlaSweepState(Base):
    """Where the last SLA sweep stood (one row, id 1): its `now` and the calendar it used.

    A closed request's clock is kept, so the sweep looks for late breaches of closed requests
    only past `swept_at` (an earlier one was announced while the request was open), unless the
    calendar changed since (a decision after the edit may then have been measured with it).
    """

    __tablename__ = "sla_sweep_state"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    swept_at: Mapped[datetime] = mapped_column(UTCDateTime)
    calendar_key: Mapped[str] = mapped_column(sa.String(40))
