"""The decision window promised to the customer: 3–5 business days (DOMAIN.md: SLA).

"Expected by" is the request's due time (3 business days), "at the latest" its breach time
(5). Both come from the SLA clock (requests_queue.sla.clock) run over the request's timeline
with the team's calendar, so time spent waiting for the customer's answer moves both dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..calendar import BusinessCalendar
from ..models import RequestEvent, RequestState
from ..sla.clock import BREACH_DAYS, DUE_DAYS, deadlines, request_sla
from ..sla.countdown import span_text

DATE_FORMAT = "%A %d %B %Y, %H:%M %Z"  # "Tuesday 24 November 2026, 17:00 MST"


@dataclass(frozen=True)
class DecisionWindow:
    """When the customer can expect a decision (instants in the team's time zone)."""

    expected_by: datetime  # 3 business days of review
    latest: datetime  # 5 business days of review
    is_paused: bool  # waiting for the customer: the dates assume an answer right now
    waited_hours: float  # business hours the clock stood still so far (moved both dates)
    day_hours: float  # one business day
    now: datetime

    @property
    def waited(self) -> str:
        """How long the clock stood still, in words ("" if under a minute)."""
        if self.waited_hours * 60 < 1:
            return ""
        return span_text(self.waited_hours * 3600, self.day_hours, long=True)

    @property
    def is_late(self) -> bool:
        """Past "expected by" without a decision (support has been warned)."""
        return not self.is_paused and self.expected_by <= self.now

    @property
    def is_overdue(self) -> bool:
        """Past "at the latest" without a decision."""
        return not self.is_paused and self.latest <= self.now


def request_window(
    calendar: BusinessCalendar, events: Sequence[RequestEvent], now: datetime
) -> DecisionWindow | None:
    """The window of an open request from its timeline; None once it is decided or closed."""
    if not events:  # a row written without the app: nothing to promise from
        return None
    sla = request_sla(calendar, events, now)
    if not sla.is_open:
        return None
    waited = calendar.business_hours_between(sla.filed_at, now) - sla.active_hours
    if sla.is_paused:  # the clock resumes with the answer: as if it came now
        moves = [(e.to_state, e.created_at) for e in sorted(events, key=lambda e: e.id)]
        due, latest = deadlines(
            calendar, [*moves, (RequestState.in_review, now)], (DUE_DAYS, BREACH_DAYS)
        )
    else:
        due, latest = sla.due_at, sla.breach_at
    zone = calendar.zone
    return DecisionWindow(
        expected_by=due.astimezone(zone),
        latest=latest.astimezone(zone),
        is_paused=sla.is_paused,
        waited_hours=max(0.0, waited),
        day_hours=calendar.hours_per_day,
        now=now,
    )
