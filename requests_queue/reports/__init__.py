"""Manager reports: SLA figures aggregated in SQL over per-request facts (no Flask here).

`refresh_report_facts` keeps `report_facts` in step with the request timelines (the scheduler
runs it; the dashboard runs a quick version before it reads); `build_dashboard` reads a
period's figures; `export.table_rows` gives each table for CSV.
"""

from .dashboard import LIST_LIMIT, Dashboard, build_dashboard
from .facts import refresh_report_facts
from .period import Period, between, last_days

__all__ = [
    "LIST_LIMIT",
    "Dashboard",
    "Period",
    "between",
    "build_dashboard",
    "last_days",
    "refresh_report_facts",
]
