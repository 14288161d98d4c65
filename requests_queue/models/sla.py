"""What the SLA code stores: thresholds crossed (once each), stopped clocks, daily digests."""

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


class SlaClock(Base):
    """The SLA clock of a request whose clock stopped at least once (a cache of its timeline).

    A request that never waited for the customer needs no row: while it runs, its deadlines
    follow from its filing time (`ConsentRequest.clock_base_at` after a wait). A row is
    written whenever a timeline event is flushed (requests_queue.sla.deadlines) and
    recomputed by the sweep once the calendar it was computed with (`calendar_key`) is no
    longer the team's; a closed request's row lives until the sweep has recorded its late
    breach. Deleting every row is safe: the sweep rebuilds them from the timelines.
    """

    __tablename__ = "sla_clocks"

    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("consent_requests.id"), primary_key=True, autoincrement=False
    )
    calendar_key: Mapped[str] = mapped_column(sa.String(40))
    # Business seconds the clock ran before it stopped (or before its current run began).
    ran_s: Mapped[int] = mapped_column(default=0)
    # Stopped: when the clock reached 3 / 5 business days (None: it stopped before). Running:
    # the deadlines ahead, as `clock_base_at` gives them.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breach_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SlaDigest(Base):
    """One daily digest to the managers per team-local date (the primary key makes it once)."""

    __tablename__ = "sla_digests"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    recipients: Mapped[int] = mapped_column(default=0)
