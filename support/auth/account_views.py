"""The logged-in user's own account: change the password, sign out everywhere."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..extensions import db
from .forms import PasswordChangeForm, SignOutEverywhereForm
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
            user.password_hash = hash_password(form.new_password.data)
            end_all_sessions(user.id)
            db.session.commit()
            start_session(user)  # this client carries the new version; the others are out
            flash("Password changed. You were signed out on every other device.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, sign_out_form=SignOutEverywhereForm())


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
