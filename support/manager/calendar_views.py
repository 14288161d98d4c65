"""The manager's calendar page: zone, hours, holidays, and a preview of the coming days."""

from __future__ import annotations

from datetime import UTC, date, timedelta

from flask import flash, redirect, render_template, request, url_for

from requests_queue.calendar import BusinessCalendar
from requests_queue.calendar_store import (
    PREVIEW_DAYS,
    WEEKDAYS,
    add_holiday,
    build_calendar,
    delete_holiday_change,
    holiday_changes,
    preview_days,
    remove_holiday,
    subdivisions,
    timezone_names,
    update_calendar,
)
from requests_queue.errors import NotFound
from requests_queue.now import now_utc

from ..auth.session import current_actor
from ..edge import committed, operation
from ..extensions import db
from ..form_errors import field_named
from ..kept_facts import team_calendar
from .calendar_forms import CalendarForm, HolidayForm, UndoHolidayForm
from .views import bp


@bp.route("/calendar", methods=["GET", "POST"])
def calendar():
    """Edit the team calendar; preview changes before saving them."""
    stored = team_calendar()
    form = CalendarForm()
    shown, previewing = stored, False
    if request.method == "GET":
        form.fill(stored)
    elif form.validate_on_submit():
        with operation(form, locate=_calendar_field) as op:
            if form.preview.data:
                shown, previewing = build_calendar(form.to_input(), stored), True
            else:
                update_calendar(db.session, form.to_input(), current_actor(), now_utc())
        if op.done and not previewing:
            flash("Calendar saved. Open requests' deadlines now follow it.", "success")
            return redirect(url_for(".calendar"))
    return _page(form, HolidayForm(prefix="holiday"), shown, previewing)


@bp.route("/calendar/holidays", methods=["POST"])
def calendar_holiday():
    """Close a day as a company holiday, or work a public holiday."""
    form = HolidayForm(prefix="holiday")
    if form.validate_on_submit():
        change = add_holiday if form.close_day.data else remove_holiday
        with operation(form, locate=_calendar_field) as op:
            change(db.session, form.day.data, form.note.data or "", current_actor(), now_utc())
        if op.done:
            verb = "closed" if form.close_day.data else "a working day"
            flash(f"{form.day.data:%A %d %B %Y} is now {verb}.", "success")
            return redirect(url_for(".calendar"))
    calendar_form = CalendarForm(formdata=None)
    stored = team_calendar()
    calendar_form.fill(stored)
    return _page(calendar_form, form, stored, False)


@bp.route("/calendar/holidays/<id:change_id>/undo", methods=["POST"])
def undo_calendar_holiday(change_id: int):
    """Undo one holiday edit: the day follows the public calendar again."""
    if UndoHolidayForm().validate_on_submit():
        try:
            with committed():
                change = delete_holiday_change(db.session, change_id)
        except NotFound:
            flash("That holiday edit was already undone.", "info")
        else:
            flash(f"{change.day:%A %d %B %Y} follows the public calendar again.", "success")
    return redirect(url_for(".calendar"))


def _page(form: CalendarForm, holiday_form: HolidayForm, shown: BusinessCalendar, previewing):
    today = now_utc().astimezone(shown.zone).date()
    changes = holiday_changes(db.session)
    notes = {c.day: c.note for c in changes if c.note}
    return render_template(
        "manager/calendar.html",
        form=form,
        holiday_form=holiday_form,
        undo_form=UndoHolidayForm(),
        calendar=shown,
        previewing=previewing,
        today=today,
        preview=preview_days(shown, today, PREVIEW_DAYS, notes),
        preview_count=PREVIEW_DAYS,
        changes=changes,
        upcoming=_public_holidays(shown, today),
        zones=timezone_names(),
        regions=subdivisions(shown.country),
        weekdays=WEEKDAYS,
        utc=UTC,
    )


def _public_holidays(calendar: BusinessCalendar, today: date) -> list[tuple[date, str, str]]:
    """The country's holidays of the next 12 months: (day, name, "worked" / "workable" / "")."""
    days = (today + timedelta(days=n) for n in range(366))
    return [
        (d, name, _holiday_choice(calendar, d))
        for d in days
        if (name := calendar.public_holiday_name(d)) is not None
    ]


def _holiday_choice(calendar: BusinessCalendar, day: date) -> str:
    if day in calendar.removed_holidays:
        return "worked"
    return "workable" if calendar.hours[day.weekday()] is not None else ""


def _calendar_field(form, name: str | None):
    """The field a domain error names; a weekday's errors go to that day's closing time."""
    if name and name.startswith("hours-"):
        return form.hours[int(name.split("-")[1])].form.closes
    return None if name == "hours" else field_named(form, name)
