"""The logged-in user's own account: change the password, the time zone, sign out everywhere."""

from flask import flash, has_request_context, redirect, render_template, request, url_for
from flask_login import current_user, login_required, user_logged_in

from requests_queue.time_zones import adopt_browser_zone, set_time_zone

from ..edge import operation
from ..times import viewer_zone_name
from .forms import PasswordChangeForm, SignOutEverywhereForm, TimeZoneForm
from .passwords import hash_password, verify_password
from .session import end_all_sessions, log_out_everywhere, start_session
from .throttle import begin_attempt
from .views import bp


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Change the password: every other session ends, this one goes on."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        # Wrong current passwords count as failed logins, so a borrowed session cannot be used
        # to guess the password faster than the login page allows.
        attempt = begin_attempt(user.email)
        if attempt.is_locked:
            form.current_password.errors.append(attempt.locked_message)
        elif not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        else:
            attempt.succeeded()
            with operation(form) as op:
                user.password_hash = hash_password(form.new_password.data)
                end_all_sessions(user.id)
            if op.done:
                start_session(user)  # this client carries the new version; the others are out
                flash("Password changed. You were signed out on every other device.", "success")
                return redirect(url_for("auth.account"))
    return _account_page(form=form)


def _account_page(status: int = 200, **forms):
    """The account page with its three forms; `forms` replaces the ones being answered."""
    forms.setdefault("form", PasswordChangeForm(formdata=None))
    forms.setdefault("zone_form", TimeZoneForm(formdata=None, time_zone=viewer_zone_name()))
    page = render_template("auth/account.html", sign_out_form=SignOutEverywhereForm(), **forms)
    return page, status


@bp.route("/account/time-zone", methods=["POST"])
@login_required
def time_zone():
    """Show every time in the zone the user picks; an unknown name is refused next to the field."""
    form = TimeZoneForm()
    if form.validate_on_submit():
        with operation(form) as op:
            set_time_zone(current_user._get_current_object(), form.time_zone.data or "")
        if op.done:
            flash(f"Times are now shown in {form.time_zone.data.strip()}.", "success")
            return redirect(url_for("auth.account"))
    return _account_page(400, zone_form=form)


@user_logged_in.connect
def _adopt_browser_zone(app, user) -> None:
    # The first login brings the browser's zone (the login form's hidden field, filled by
    # static/time-zone.js); later logins leave the person's choice alone. The login view
    # commits it with the login (views.login).
    if has_request_context():
        adopt_browser_zone(user, request.form.get("browser_time_zone"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every session of the current user, this one included."""
    form = SignOutEverywhereForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.account"))
    log_out_everywhere()
    flash("You were signed out on every device, this one included.", "info")
    return redirect(url_for("auth.login"))
