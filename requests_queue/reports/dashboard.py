"""Everything the manager dashboard shows for one period, read in a handful of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ..calendar import BusinessCalendar
from ..sla.engine import AT_RISK, BREACHED
from .figures import AgentRow, BacklogRow, Summary, WeekRow, backlog, open_by_level, period_figures
from .lists import RequestRow, Watch, breach_count, breach_list, watch_list
from .period import Period
from .scale import Scale, scale_for

LIST_LIMIT = 50  # rows per list on the page; the CSV has them all


@dataclass(frozen=True)
class Dashboard:
    """The period's figures, the backlog now, and the lists (first LIST_LIMIT rows each)."""

    period: Period
    scale: Scale
    summary: Summary
    weekly: list[WeekRow]
    backlog: list[BacklogRow]
    agents: list[AgentRow]
    breached: list[RequestRow]
    at_risk: list[RequestRow]
    breaches: list[RequestRow]
    breaches_total: int

    @property
    def open_total(self) -> int:
        """Open requests now."""
        return sum(row.open for row in self.backlog)

    @property
    def breached_total(self) -> int:
        """Open requests past 5 business days now."""
        return open_by_level(self.backlog)[BREACHED]

    @property
    def at_risk_total(self) -> int:
        """Open requests past 3 but not 5 business days now."""
        return open_by_level(self.backlog)[AT_RISK]


def build_dashboard(
    session: Session,
    calendar: BusinessCalendar,
    period: Period,
    now: datetime,
    *,
    list_limit: int = LIST_LIMIT,
) -> Dashboard:
    """Read the dashboard from `report_facts` (refresh them first for up-to-date figures)."""
    scale = scale_for(calendar, now)
    figures = period_figures(session, period, scale)
    return Dashboard(
        period=period,
        scale=scale,
        summary=figures.summary,
        weekly=figures.weekly,
        backlog=backlog(session, scale),
        agents=figures.agents,
        breached=list(watch_list(session, scale, Watch.breached, list_limit)),
        at_risk=list(watch_list(session, scale, Watch.at_risk, list_limit)),
        breaches=list(breach_list(session, period, scale, list_limit)),
        breaches_total=breach_count(session, period, scale),
    )
