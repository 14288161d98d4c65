"""Fair assignment on the team calendar: the manager's switch and cap, and agents' shifts."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from requests_queue.calendar_store import WEEKDAYS
from requests_queue.models import Role, User
from requests_queue.now import now_utc
from requests_queue.requests.auto_assign import RELEASE_LEAD_HOURS, open_loads
from requests_queue.shifts import (
    availability,
    load_settings,
    own_hours,
    set_working_hours,
    update_settings,
)

from ..auth.session import current_actor
from ..edge import operation
from ..extensions import db
from ..kept_facts import team_calendar
from .calendar_forms import (
    AgentHoursForm,
    AssignmentSettingsForm,
    fill_day_rows,
    read_day_rows,
)
from .calendar_views import _calendar_field
from .views import bp

SUPPORT = (Role.agent, Role.manager)


@bp.route("/calendar/agents", methods=["GET", "POST"])
def agents():
    """Who is on shift now, each agent's hours and load, and automatic assignment's settings."""
    settings = load_settings(db.session)
    form = AssignmentSettingsForm()
    if request.method == "GET":
        form.is_enabled.data = settings.is_enabled
        form.max_open_per_agent.data = settings.max_open_per_agent
    elif form.validate_on_submit():
        with operation(form) as op:
            update_settings(
                db.session,
                form.is_enabled.data,
                form.max_open_per_agent.data,
                current_actor(),
                now_utc(),
            )
        if op.done:
            state = "on" if form.is_enabled.data else "off"
            flash(f"Automatic assignment is {state}.", "success")
            return redirect(url_for(".agents"))
    calendar = team_calendar()
    return render_template(
        "manager/agents.html",
        form=form,
        settings=settings,
        people=availability(db.session, calendar, now_utc(), roles=SUPPORT),
        loads=open_loads(db.session),
        calendar=calendar,
        weekdays=WEEKDAYS,
        lead_hours=RELEASE_LEAD_HOURS,
    ), 400 if request.method == "POST" else 200  # shown again only when refused


@bp.route("/calendar/agents/<id:user_id>", methods=["GET", "POST"])
def agent_hours(user_id: int):
    """Give one agent their own working hours, or let them follow the team's."""
    user = db.session.get(User, user_id)
    if user is None or user.role not in SUPPORT:
        abort(404)
    calendar = team_calendar()
    form = AgentHoursForm()
    if request.method == "GET":
        hours = own_hours(db.session, user.id)
        form.own_hours.data = hours is not None
        fill_day_rows(form.hours, hours if hours is not None else calendar.hours)
    elif form.validate_on_submit():
        hours = read_day_rows(form.hours) if form.own_hours.data else None
        with operation(form, locate=_calendar_field) as op:
            set_working_hours(db.session, user, hours, now_utc())
        if op.done:
            flash(f"{user.display_name}'s working hours are saved.", "success")
            return redirect(url_for(".agents"))
    return render_template(
        "manager/agent_hours.html", form=form, person=user, calendar=calendar, weekdays=WEEKDAYS
    ), 400 if request.method == "POST" else 200  # shown again only when refused
