"""The decision window promised to the customer: 3–5 business days (DOMAIN.md: SLA).

"Expected by" is the request's due time (3 business days), "at the latest" its breach time
(5). Both are read from the request's stored SLA clock (requests_queue.sla.deadlines, the
engine's clock stored on its row), as the queue, the sweep and the dashboard read it, so time
spent waiting for the customer's answer moves both dates; late and overdue are the engine's
at-risk and breached levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..calendar import BusinessCalendar
from ..models import ConsentRequest
from ..sla.countdown import span_text
from ..sla.deadlines import base_of
from ..sla.engine import (
    AT_RISK,
    BREACH_DAYS,
    BREACHED,
    DUE_DAYS,
    PAUSED,
    RUNNING,
    business_days,
    moment,
    running_clock,
)
from ..sla.line import PER_HOUR, PER_SECOND, BusinessLine, line_for, micros


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
    calendar: BusinessCalendar, req: ConsentRequest, now: datetime
) -> DecisionWindow | None:
    """The window of an open request from its stored clock; None once it is decided or closed,
    or while it waits for the customer with no clock computed yet (a row written with plain
    SQL, until the sweep computes it): nothing certain to promise."""
    if not req.state.is_open:
        return None
    line, day = line_for(calendar), calendar.hours_per_day
    at = line.at(now)
    filed = line.at(req.filed_at)
    stored = req.clock_calendar_key is not None
    if req.state in RUNNING:
        # After a wait, a deadline reached before it is earlier than the base says.
        waited = stored and req.clock_base_at is not None
        reached = (req.clock_due_at, req.clock_breach_at) if waited else None
        clock = running_clock(line, base_of(req), day, reached)
        due, breach, level = clock.due, clock.breach, clock.level(micros(now))
        stood_still = clock.started - filed  # the base lies that far after the filing
    elif stored:  # waiting for the customer: the clock resumes with the answer, as if now
        ran = req.clock_ran_s * PER_SECOND
        due = _resumed(line, req.clock_due_at, at, ran, business_days(DUE_DAYS, day))
        breach = _resumed(line, req.clock_breach_at, at, ran, business_days(BREACH_DAYS, day))
        level, stood_still = PAUSED, at - filed - ran
    else:
        return None
    zone = calendar.zone
    return DecisionWindow(
        expected_by=moment(due).astimezone(zone),
        latest=moment(breach).astimezone(zone),
        is_paused=level == PAUSED,
        waited_hours=max(0, stood_still) / PER_HOUR,
        day_hours=day,
        now=now,
        level=level,
    )


def _resumed(line: BusinessLine, reached: datetime | None, at: int, ran: int, needed: int) -> int:
    """When a stopped clock that ran `ran` reaches `needed` if it resumes at position `at`:
    the instant it reached it before it stopped, else `needed - ran` after `at`."""
    if reached is not None:
        return micros(reached)
    return line.instant(at + needed - ran)
