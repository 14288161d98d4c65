"""An agent's availability ("available" or "away", flipped from the header or My shift) and
the My shift page: their hours, whether they are on shift now, and their open load."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from requests_queue.calendar_store import WEEKDAYS
from requests_queue.now import now_utc
from requests_queue.requests.auto_assign import RELEASE_LEAD_HOURS, open_loads
from requests_queue.shifts import availability, is_away, load_settings, set_availability

from ..auth.redirects import safe_next
from ..edge import Outcome, perform
from ..extensions import db
from ..kept_facts import team_calendar
from .views import bp


class AvailabilityForm(FlaskForm):
    """The header's toggle: the availability wanted ("1" available, "0" away) and the page
    to come back to."""

    available = HiddenField()
    next = HiddenField()


@bp.app_context_processor
def _availability_toggle() -> dict:
    """The header's toggle for support users (their away flag is read only when shown)."""

    def desk_is_away() -> bool:
        return is_away(db.session, current_user.id)

    return {"desk_is_away": desk_is_away}


@bp.route("/availability", methods=["POST"])
def set_own_availability():
    """Switch yourself to available or away; back to the page the toggle was on."""
    form = AvailabilityForm()
    wanted = form.available.data if form.validate_on_submit() else None
    if wanted not in ("0", "1"):
        flash("Your availability was not changed; reload the page and try again.", "error")
        return redirect(url_for(".my_shift"))
    available = wanted == "1"

    def flip() -> None:
        set_availability(db.session, current_user, available, now_utc())

    if perform(flip) is Outcome.done:
        flash(
            "You are available: new requests can be assigned to you while you are on shift."
            if available
            else "You are away: nothing new is assigned to you, and work close to at risk "
            "goes back to the pool.",
            "success",
        )
    return redirect(safe_next(form.next.data or "") or url_for(".my_shift"))


@bp.route("/shift")
def my_shift():
    """Your availability, working hours and open requests, as fair assignment sees them."""
    calendar = team_calendar()
    me = next(
        (p for p in availability(db.session, calendar, now_utc(), roles=(current_user.role,))
         if p.user.id == current_user.id),
        None,
    )  # fmt: skip
    return render_template(
        "agent/shift.html",
        me=me,
        settings=load_settings(db.session),
        load=open_loads(db.session).get(current_user.id, 0),
        calendar=calendar,
        weekdays=WEEKDAYS,
        lead_hours=RELEASE_LEAD_HOURS,
        toggle=AvailabilityForm(formdata=None),
    )
