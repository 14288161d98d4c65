"""The yardsticks every report query shares: thresholds in seconds and a clock reading now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..calendar import BusinessCalendar
from ..models import ConsentRequest
from ..sla.engine import BREACH_DAYS, DUE_DAYS, Reached
from ..sla.line import line_for

R = ConsentRequest
HOUR_S = 3600


@dataclass(frozen=True)
class Scale:
    """Business-day thresholds and `now`'s position on the business line, in seconds."""

    now: datetime
    day_s: int
    now_mark: int

    @property
    def due_s(self) -> int:
        """3 business days: decided within it meets the promise's "expected by"."""
        return DUE_DAYS * self.day_s

    @property
    def breach_s(self) -> int:
        """5 business days: reaching it is a breach."""
        return BREACH_DAYS * self.day_s

    def clock_s(self) -> sa.ColumnElement[int]:
        """SQL: business seconds each request's stored clock (`sla.deadlines`) has run by
        `now`, paused time excluded: from its base while it runs, else what it ran."""
        now_mark = sa.bindparam("now_mark", self.now_mark, type_=sa.BigInteger)
        return sa.case(
            (R.clock_base_mark.is_(None), R.clock_ran_s), else_=now_mark - R.clock_base_mark
        )

    def reached(self) -> Reached:
        """The facts' `reached(days)` for the engine's levels (`sla.engine.at_level`): the
        clock has shown `days` business days by `now`."""
        clock = self.clock_s()
        return lambda days: clock >= days * self.day_s

    def late_s(self) -> sa.ColumnElement[int]:
        """SQL: business seconds past the breach deadline (negative before it)."""
        return self.clock_s() - self.breach_s


def scale_for(calendar: BusinessCalendar, now: datetime) -> Scale:
    """The scale of `calendar` read at `now`: one calendar computation per report."""
    return Scale(
        now=now,
        day_s=round(calendar.hours_per_day * HOUR_S),
        now_mark=line_for(calendar).seconds(now),
    )


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent; None when there is nothing to divide."""
    return 100 * part / whole if whole else None
