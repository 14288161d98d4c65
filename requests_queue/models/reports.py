"""The dashboard's history of each request, derived from its timeline (a cache).

`refresh_report_facts` (requests_queue.reports.facts) writes a row per request whenever the
request gets a new event or the calendar changes (open ones), so the dashboard aggregates
stored numbers in SQL and never walks a calendar per request while it renders: when it was
filed, first answered and decided, with the business time each took. Durations are whole
business seconds. The clock as it stands now (time on it, due, breach) is not here: it is
stored once, on the request (`ConsentRequest.clock_*`, requests_queue.sla.deadlines). Deleting
every row is safe.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..now import now_utc
from .base import Base, UTCDateTime


class ReportFact(Base):
    """One request's SLA figures as of its latest event (`last_event_id`)."""

    __tablename__ = "report_facts"
    __table_args__ = (
        # Each dashboard query reads one range of one of these, led by a team-local day (the
        # period is whole days); the trailing columns cover the query.
        sa.Index("ix_report_facts_decided", "decided_day", "decided_by_id", "decision_s"),
        sa.Index("ix_report_facts_decision_s", "decision_s", "decided_day"),  # percentiles
        sa.Index("ix_report_facts_filed", "filed_day"),
        sa.Index("ix_report_facts_first_response", "first_response_day"),
        sa.Index("ix_report_facts_response_s", "first_response_s", "first_response_day"),
    )  # fmt: skip

    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("consent_requests.id"), primary_key=True, autoincrement=False
    )
    last_event_id: Mapped[int]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Each instant with its team-local day: periods are whole local days, so "in the period"
    # is a range of a date column at the head of an index.
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filed_day: Mapped[date] = mapped_column(sa.Date)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_day: Mapped[date | None] = mapped_column(sa.Date)
    first_response_s: Mapped[int | None]  # business seconds from filing to first response
    # Approved or rejected only: a withdrawal or a close is not a decision.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_day: Mapped[date | None] = mapped_column(sa.Date)
    decision_s: Mapped[int | None]  # business seconds the clock ran until the decision


class ReportFactsState(Base):
    """Which events and which calendar the facts reflect (one row, id 1): the durations of
    open requests are measured again after a calendar edit, decided ones keep theirs."""

    __tablename__ = "report_facts_state"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    calendar_key: Mapped[str] = mapped_column(sa.String(40))
    last_event_id: Mapped[int] = mapped_column(default=0)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
