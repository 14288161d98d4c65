"""The SLA dashboard: a period's figures, the backlog now, CSV downloads, and reassignment."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from requests_queue.calendar import BusinessCalendar
from requests_queue.errors import ValidationError
from requests_queue.models import ConsentRequest
from requests_queue.now import now_utc
from requests_queue.reports import build_dashboard, refresh_report_facts
from requests_queue.reports.export import TABLES, csv_lines, table_rows
from requests_queue.reports.period import DEFAULT_DAYS, PRESETS, Period, between, last_days
from requests_queue.requests.second_review import (
    second_review_threshold,
    waiting_for_second_review,
)

from ..agent.assigning import assign_form, assign_from_form
from ..agent.forms import AssignForm
from ..edge import Outcome, committed
from ..extensions import db
from ..form_errors import attach_errors
from ..ids import parse_number
from ..kept_facts import team_calendar
from .dashboard_forms import PeriodForm
from .views import bp

PERIOD_ARGS = ("days", "start", "end")
# A page view brings this many requests' figures up to date at most; more is the scheduler's
# job (after a migration, say), so the page never waits on a big recomputation.
PAGE_REFRESH_LIMIT = 5000
SECOND_REVIEW_SHOWN = 10  # the approvals page lists more


def period_args() -> dict[str, str]:
    """The query arguments that choose the period (kept on every link and form)."""
    return {k: v for k in PERIOD_ARGS if (v := request.args.get(k, "").strip())}


def _chosen_period(form: PeriodForm, calendar: BusinessCalendar, now: datetime) -> Period:
    """The period the query asks for; on a mistake, errors on the form and the default period."""
    if request.args.get("start") or request.args.get("end"):
        if form.validate():
            if form.start.data is None or form.end.data is None:
                missing, which = (
                    (form.start, "first") if form.start.data is None else (form.end, "last")
                )
                missing.errors = [*missing.errors, f"Choose the {which} day as well."]
            else:
                try:
                    return between(calendar, now, form.start.data, form.end.data)
                except ValidationError as exc:
                    attach_errors(form, [exc])
        return last_days(calendar, now, DEFAULT_DAYS)
    days = parse_number(request.args.get("days"))
    period = last_days(calendar, now, days if days in PRESETS else DEFAULT_DAYS)
    form.start.data, form.end.data = period.first_day, period.last_day  # a start for editing
    return period


def _refresh(calendar: BusinessCalendar, now: datetime) -> int:
    """Bring the facts up to date with events since the last refresh, and the stored clocks
    with the calendar; return how many requests were left for the scheduler."""
    try:
        with committed():
            done = refresh_report_facts(
                db.session, calendar, now, recent_only=True, limit=PAGE_REFRESH_LIMIT
            )
    except (OperationalError, IntegrityError) as exc:
        # Another refresh (the scheduler's, another page) is doing the same work right now.
        current_app.logger.warning("report facts not refreshed for this page: %s", exc)
        return 0
    return done.get("deferred", 0)


@bp.route("/dashboard")
def dashboard():
    """The SLA dashboard for a period; `?format=csv&table=…` downloads one of its tables."""
    now = now_utc()
    calendar = team_calendar()
    form = PeriodForm(formdata=request.args)
    period = _chosen_period(form, calendar, now)
    lagging = _refresh(calendar, now)
    if request.args.get("format") == "csv":
        return _csv(calendar, period, now, request.args.get("table", ""))
    return _page(form, calendar, period, now, lagging=lagging)


def _page(form, calendar, period, now, failed=None, status=200, lagging=0):
    board = build_dashboard(db.session, calendar, period, now)
    reassign = assign_form(submitted=False)
    chart = {
        "labels": [f"{w.week:%d %b}" for w in board.weekly],
        "filed": [w.filed for w in board.weekly],
        "decided": [w.decided for w in board.weekly],
        "within5": [None if w.breach_pct is None else round(w.breach_pct, 1) for w in board.weekly],
        "within3": [None if w.due_pct is None else round(w.due_pct, 1) for w in board.weekly],
    }
    return render_template(
        "manager/dashboard.html",
        board=board,
        form=form,
        calendar=calendar,
        now=now,
        presets=PRESETS,
        args=period_args(),
        tables=TABLES,
        reassign=reassign,
        failed=failed,
        lagging=lagging,
        chart=chart,
        second_review=waiting_for_second_review(db.session, limit=SECOND_REVIEW_SHOWN),
        second_review_threshold=second_review_threshold(db.session),
    ), status


def _csv(calendar: BusinessCalendar, period: Period, now: datetime, table: str) -> Response:
    if table not in TABLES:
        abort(404)
    header, rows = table_rows(db.session, calendar, period, now, table)
    # A byte-order mark makes spreadsheet programs read the names as UTF-8.
    lines = stream_with_context(("\ufeff" if i == 0 else "") + line
                                for i, line in enumerate(csv_lines(header, rows)))  # fmt: skip
    name = f"sla-{table.replace('_', '-')}-{period.slug}.csv"
    return Response(
        lines,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/dashboard/requests/<id:request_id>/reassign", methods=["POST"])
def dashboard_reassign(request_id: int):
    """Give a request to another agent or manager, then back to the same dashboard."""
    req = db.session.get(ConsentRequest, request_id)
    if req is None:
        abort(404)
    form = assign_form()
    if assign_from_form(req, form) is Outcome.invalid:
        return _failed(request_id, form)
    return redirect(url_for(".dashboard", **period_args(), _anchor="attention"))


def _failed(request_id: int, form: AssignForm):
    """The dashboard again, with the refused form's errors on its row."""
    now = now_utc()
    calendar = team_calendar()
    period_form = PeriodForm(formdata=request.args)
    period = _chosen_period(period_form, calendar, now)
    lagging = _refresh(calendar, now)
    return _page(
        period_form, calendar, period, now, failed=(request_id, form), status=400, lagging=lagging
    )
