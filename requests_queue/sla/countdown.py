"""How far each listed request is from its next deadline, in business time (the agent queue).

Read from the stored clocks on the request rows, never recomputed from timelines: a running
request's clock is read back from its base (`deadlines.base_of`, `engine.running_clock`); a
request waiting for the customer shows what its stored clock says it reached before the clock
stopped (`engine.stopped_clock`). The level is the engine's (`Clock.level`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ..calendar import BusinessCalendar
from ..models import ConsentRequest, RequestState
from ..time_zones import clock_text
from .deadlines import base_of
from .engine import (
    AT_RISK,
    BREACH_DAYS,
    BREACHED,
    DUE_DAYS,
    ON_TRACK,
    PAUSED,
    RUNNING,
    Clock,
    running_clock,
    stopped_clock,
)
from .line import PER_SECOND, instant_at, line_for, micros

# Words for the levels; "paused" is in the text itself, on track needs no word.
LABELS = {ON_TRACK: "", AT_RISK: "At risk", BREACHED: "Breached", PAUSED: ""}


@dataclass(frozen=True)
class Countdown:
    """A request's next deadline as the queue shows it: a level and words, never colour alone."""

    level: str  # ON_TRACK, AT_RISK, BREACHED or PAUSED
    text: str  # "due in 1 d 3 h", "breach in 5 h", "breached 2 h ago", …
    deadline_at: datetime | None = None  # the instant counted to or from (team time)
    note: str = ""  # e.g. what a paused request has left

    @property
    def label(self) -> str:
        """The level in words ("" while on track)."""
        return LABELS[self.level]


def span_text(seconds: float, day_hours: float, *, long: bool = False) -> str:
    """Business time in words: "1 d 3 h", "5 h 20 min", "45 min" (long: "1 business day
    and 3 hours"); a business day is `day_hours` long."""
    minutes = int(seconds // 60)
    per_day = round(day_hours * 60)
    days, rest = divmod(minutes, per_day) if per_day else (0, minutes)
    hours, mins = divmod(rest, 60)
    if long:
        units = [(days, "business day"), (hours, "hour"), (0 if days else mins, "minute")]
        parts = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in units if n]
        return " and ".join(parts[:2]) if parts else "less than a minute"
    units = [(days, "d"), (hours, "h"), (0 if days else mins, "min")]
    parts = [f"{n} {unit}" for n, unit in units if n]
    return " ".join(parts[:2]) if parts else "under 1 min"


def queue_countdowns(
    session: Session,
    calendar: BusinessCalendar,
    requests: Sequence[ConsentRequest],
    now: datetime,
) -> dict[int, Countdown]:
    """The countdown of each open request listed, from the clocks stored on their rows."""
    line = line_for(calendar)
    day = calendar.hours_per_day
    now_us = micros(now)
    at = line.position(now_us) if any(r.state in RUNNING for r in requests) else 0

    def instant(us: int) -> datetime:
        return instant_at(us).astimezone(calendar.zone)

    out: dict[int, Countdown] = {}
    for req in requests:
        stored = req.clock_calendar_key is not None
        if req.state in RUNNING:
            # After a wait, a deadline reached before it is earlier than the base says.
            waited = stored and req.clock_base_at is not None
            reached = (req.clock_due_at, req.clock_breach_at) if waited else None
            clock = running_clock(line, base_of(req), day, reached)
            level = clock.level(now_us)
            if level == ON_TRACK:
                text = f"due in {span(clock.left(at, DUE_DAYS), day)}"
                out[req.id] = Countdown(ON_TRACK, text, instant(clock.due))
            elif level == AT_RISK:
                text = f"breach in {span(clock.left(at, BREACH_DAYS), day)}"
                out[req.id] = Countdown(AT_RISK, text, instant(clock.breach))
            else:
                out[req.id] = _breached(-clock.left(at, BREACH_DAYS), instant(clock.breach), day)
        elif req.state is RequestState.awaiting_customer:
            paused = (
                stopped_clock(req.clock_ran_s, req.clock_due_at, req.clock_breach_at, day)
                if stored
                else None
            )
            out[req.id] = _paused(paused, now_us, day)
    return out


def span(microseconds: int, day_hours: float) -> str:
    """A distance on the business-time line in short words."""
    return span_text(microseconds / PER_SECOND, day_hours)


def _breached(since: int, deadline: datetime, day: float) -> Countdown:
    if since < 60 * PER_SECOND:  # no business time since, e.g. the weekend after a Friday
        # The deadline in the team's business hours, its zone named (the cell's tooltip gives
        # it in the viewer's zone too).
        return Countdown(BREACHED, f"breached {clock_text(deadline, '%a %H:%M')}", deadline)
    return Countdown(BREACHED, f"breached {span(since, day)} ago", deadline)


def _paused(clock: Clock | None, now: int, day: float) -> Countdown:
    text = "paused — waiting for customer"
    if clock is None:  # not computed yet (the sweep will): say only what is certain
        return Countdown(PAUSED, text)
    level = clock.level(now, paused=True)
    if level == BREACHED:
        return Countdown(BREACHED, text, note="breached before the question")
    left = span(max(0, clock.left(0, BREACH_DAYS)), day)
    return Countdown(level, text, note=f"{left} left when it resumes")
