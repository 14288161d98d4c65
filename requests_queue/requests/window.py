"""The decision window promised to the customer: 3–5 business days (DOMAIN.md: SLA).

"Expected by" is the request's due time (3 business days), "at the latest" its breach time
(5). Both come from the SLA engine's clock (requests_queue.sla.engine.clock_of) run over the
request's timeline with the team's calendar, so time spent waiting for the customer's answer
moves both dates; late and overdue are the engine's at-risk and breached levels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..calendar import BusinessCalendar
from ..models import RequestEvent, RequestEventKind, RequestState
from ..sla.countdown import span_text
from ..sla.engine import AT_RISK, BREACHED, PAUSED, clock_of, moment
from ..sla.line import PER_HOUR, line_for, micros


@dataclass(frozen=True)
class DecisionWindow:
    """When the customer can expect a decision (instants in the team's time zone)."""

    expected_by: datetime  # 3 business days of review
    latest: datetime  # 5 business days of review
    is_paused: bool  # waiting for the customer: the dates assume an answer right now
    waited_hours: float  # business hours the clock stood still so far (moved both dates)
    day_hours: float  # one business day
    now: datetime
    level: str = PAUSED  # the engine's level now (sla.engine: ON_TRACK, AT_RISK, BREACHED, PAUSED)

    @property
    def waited(self) -> str:
        """How long the clock stood still, in words ("" if under a minute)."""
        if self.waited_hours * 60 < 1:
            return ""
        return span_text(self.waited_hours * 3600, self.day_hours, long=True)

    @property
    def is_late(self) -> bool:
        """Past "expected by" without a decision (support has been warned)."""
        return self.level in (AT_RISK, BREACHED)

    @property
    def is_overdue(self) -> bool:
        """Past "at the latest" without a decision."""
        return self.level == BREACHED


def request_window(
    calendar: BusinessCalendar, events: Sequence[RequestEvent], now: datetime
) -> DecisionWindow | None:
    """The window of an open request from its timeline; None once it is decided or closed."""
    if not events:  # a row written without the app: nothing to promise from
        return None
    ordered = sorted(events, key=lambda e: e.id)
    if ordered[0].kind is not RequestEventKind.filed:
        raise ValueError("a request's timeline starts with its filing")
    state = ordered[-1].to_state
    if not state.is_open:
        return None
    line, day = line_for(calendar), calendar.hours_per_day
    moves = [(e.to_state, micros(e.created_at)) for e in ordered]
    at = line.at(now)
    clock = clock_of(line, moves, day)
    waited = at - clock.runs[0][0] - clock.before(at) if at > clock.runs[0][0] else 0
    paused = state is RequestState.awaiting_customer
    if paused:  # the clock resumes with the answer: as if it came now
        clock = clock_of(line, [*moves, (RequestState.in_review, micros(now))], day)
    zone = calendar.zone
    return DecisionWindow(
        expected_by=moment(clock.due).astimezone(zone),
        latest=moment(clock.breach).astimezone(zone),
        is_paused=paused,
        waited_hours=waited / PER_HOUR,
        day_hours=day,
        now=now,
        level=PAUSED if paused else clock.level(micros(now)),
    )
