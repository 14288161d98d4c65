"""How far each listed request is from its next deadline, in business time (the agent queue).

Read from the stored clocks, never recomputed from timelines: a running request's deadlines
lie 3 and 5 business days after its base (`deadlines.base_of`); a request waiting for the
customer shows what its `sla_clocks` row says it reached before the clock stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..calendar import BusinessCalendar
from ..models import ConsentRequest, RequestState
from ..models.sla import SlaClock
from .clock import BREACH_DAYS, DUE_DAYS, RUNNING
from .deadlines import base_of
from .line import PER_HOUR, PER_SECOND, instant_at, line_for, micros

ON_TRACK, AT_RISK, BREACHED, PAUSED = "on_track", "at_risk", "breached", "paused"
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
    """The countdown of each open request listed (one query for the paused ones' clocks)."""
    line = line_for(calendar)
    day = calendar.hours_per_day
    due_us, breach_us = (round(d * day * PER_HOUR) for d in (DUE_DAYS, BREACH_DAYS))
    waiting = [r.id for r in requests if r.state is RequestState.awaiting_customer]
    clocks = {
        clock.request_id: clock
        for clock in session.scalars(sa.select(SlaClock).where(SlaClock.request_id.in_(waiting)))
    }
    running = [r for r in requests if r.state in RUNNING]
    at = line.position(micros(now)) if running else 0

    def instant(position: int) -> datetime:
        return instant_at(line.instant(position)).astimezone(calendar.zone)

    out: dict[int, Countdown] = {}
    for req in requests:
        if req.state in RUNNING:
            base = line.position(micros(base_of(req)))
            due, breach = base + due_us, base + breach_us
            if at < due:
                out[req.id] = Countdown(ON_TRACK, f"due in {span(due - at, day)}", instant(due))
            elif at < breach:
                text = f"breach in {span(breach - at, day)}"
                out[req.id] = Countdown(AT_RISK, text, instant(breach))
            else:
                out[req.id] = _breached(at - breach, instant(breach), day)
        elif req.state is RequestState.awaiting_customer:
            out[req.id] = _paused(clocks.get(req.id), breach_us, day)
    return out


def span(microseconds: int, day_hours: float) -> str:
    """A distance on the business-time line in short words."""
    return span_text(microseconds / PER_SECOND, day_hours)


def _breached(since: int, deadline: datetime, day: float) -> Countdown:
    if since < 60 * PER_SECOND:  # no business time since, e.g. the weekend after a Friday
        return Countdown(BREACHED, f"breached {deadline:%a %H:%M}", deadline)
    return Countdown(BREACHED, f"breached {span(since, day)} ago", deadline)


def _paused(clock: SlaClock | None, breach_us: int, day: float) -> Countdown:
    text = "paused — waiting for customer"
    if clock is None:  # not computed yet (the sweep will): say only what is certain
        return Countdown(PAUSED, text)
    if clock.breach_at is not None:
        return Countdown(BREACHED, text, note="breached before the question")
    left = span(max(0, breach_us - clock.ran_s * PER_SECOND), day)
    level = AT_RISK if clock.due_at is not None else PAUSED
    return Countdown(level, text, note=f"{left} left when it resumes")
