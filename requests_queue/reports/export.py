"""The dashboard's tables as CSV: the same queries as the page, with every row of the lists.

Cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) are prefixed with an apostrophe: account and user names are typed by customers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ..calendar import BusinessCalendar
from ..errors import NotFound
from ..sla.engine import AT_RISK, BREACHED
from .figures import backlog, open_by_level, period_figures
from .lists import RequestRow, Watch, breach_list, watch_list
from .period import Period
from .scale import HOUR_S, Scale, scale_for

TABLES = {
    "summary": "Summary",
    "weekly": "Weekly filed vs decided",
    "backlog": "Open backlog by age",
    "agents": "Per agent",
    "breaches": "Breaches in the period",
    BREACHED: "Breached now",  # the engine's levels: one list per Watch
    AT_RISK: "At risk now",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _hours(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / HOUR_S:.2f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def table_rows(
    session: Session, calendar: BusinessCalendar, period: Period, now: datetime, name: str
) -> tuple[list[str], Iterable[list]]:
    """(header, rows) of one dashboard table; NotFound for an unknown table name."""
    scale = scale_for(calendar, now)
    if name == "summary":
        return ["Figure", "Value"], _summary(session, period, scale)
    if name == "weekly":
        header = ["Week starting", "Filed", "Decided", "Decided within 3 business days",
                  "Decided within 5 business days", "% within 5 business days",
                  "% within 3 business days"]  # fmt: skip
        rows = (
            [_when(w.week), w.filed, w.decided, w.within_due, w.within_breach,
             _pct(w.breach_pct), _pct(w.due_pct)]
            for w in period_figures(session, period, scale).weekly
        )  # fmt: skip
        return header, rows
    if name == "backlog":
        header = ["Business days on the clock", "Open", "Unassigned", "Paused (awaiting customer)"]
        return header, ([b.label, b.open, b.unassigned, b.paused] for b in backlog(session, scale))
    if name == "agents":
        header = ["Name", "Email", "Open requests held now", "Decided in period",
                  "Decided within 5 business days", "% within 5 business days",
                  "Breaches in period"]  # fmt: skip
        rows = (
            [a.name, a.email, a.assigned, a.decided, a.within_breach, _pct(a.breach_pct),
             a.breaches]
            for a in period_figures(session, period, scale).agents
        )  # fmt: skip
        return header, rows
    if name == "breaches":
        return REQUEST_HEADER, map(_request, breach_list(session, period, scale))
    if name in {watch.value for watch in Watch}:
        return REQUEST_HEADER, map(_request, watch_list(session, scale, Watch(name)))
    raise NotFound(f"there is no table called {name!r}")


REQUEST_HEADER = ["Request", "Account", "Kind", "State", "Assignee", "Filed (UTC)", "Due (UTC)",
                  "Breach deadline (UTC)", "Decided (UTC)", "Business hours on the clock",
                  "Business hours late"]  # fmt: skip


def _request(r: RequestRow) -> list:
    return [r.number, r.account, r.kind.title, r.state.title, r.assignee or "",
            _when(r.filed_at), _when(r.due_at), _when(r.breach_at), _when(r.decided_at),
            _hours(r.clock_s), _hours(max(r.late_s, 0))]  # fmt: skip


def _summary(session: Session, period: Period, scale: Scale) -> Iterator[list]:
    s = period_figures(session, period, scale).summary
    open_now = backlog(session, scale)
    yield ["First day", _when(period.first_day)]
    yield ["Last day", _when(period.last_day)]
    yield ["Decisions", s.decided]
    yield ["Decided within 3 business days", s.within_due]
    yield ["% decided within 3 business days", _pct(s.due_pct)]
    yield ["Decided within 5 business days", s.within_breach]
    yield ["% decided within 5 business days", _pct(s.breach_pct)]
    yield ["Breaches", s.breaches]
    yield ["Average business hours late", _hours(s.late_avg_s)]
    yield ["Most business hours late", _hours(s.late_max_s)]
    yield ["Median business hours to decision", _hours(s.decision_s[0.5])]
    yield ["90th percentile business hours to decision", _hours(s.decision_s[0.9])]
    yield ["First responses", s.responses]
    yield ["Median business hours to first response", _hours(s.response_s[0.5])]
    yield ["90th percentile business hours to first response", _hours(s.response_s[0.9])]
    yield ["Open now", sum(b.open for b in open_now)]
    yield ["At risk now", open_by_level(open_now)[AT_RISK]]
    yield ["Breached now", open_by_level(open_now)[BREACHED]]


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """The table as CSV text, a line at a time (for a streamed download)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        if buffer.tell() > 8192:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
