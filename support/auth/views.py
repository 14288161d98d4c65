"""Log in, log out, and send each role to its home page."""

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from requests_queue.clock import now_utc
from requests_queue.models import Role, User

from ..extensions import db
from .forms import LoginForm
from .passwords import DUMMY_HASH, verify_password

bp = Blueprint("auth", __name__)

HOME = {Role.customer: "customer.contacts", Role.agent: "agent.home", Role.manager: "manager.home"}


@bp.route("/")
def index():
    """Send visitors to their role's home page, or to the login page."""
    if current_user.is_authenticated:
        return redirect(url_for(HOME[current_user.role]))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Check the password; too many failures lock the user out for a while."""
    form = LoginForm()
    if form.validate_on_submit():
        now = now_utc()
        email = form.email.data.strip().lower()
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is not None and user.locked_until and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            form.password.errors.append(
                f"Too many failed attempts. Try again in {minutes} minute(s)."
            )
            return render_template("auth/login.html", form=form), 429
        if user is None or not user.is_active:
            verify_password(DUMMY_HASH, form.password.data)
        elif verify_password(user.password_hash, form.password.data):
            user.failed_logins = 0
            user.locked_until = None
            db.session.commit()
            login_user(user)
            return redirect(_safe_next() or url_for(HOME[user.role]))
        else:
            user.failed_logins += 1
            if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
                user.locked_until = now + timedelta(
                    minutes=current_app.config["LOGIN_LOCK_MINUTES"]
                )
                user.failed_logins = 0
            db.session.commit()
        form.password.errors.append("Wrong email or password.")
    return render_template("auth/login.html", form=form)


def _safe_next() -> str | None:
    """The `next` page if it is a path on this site (never another host)."""
    target = request.args.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the session (a POST, so another site cannot log people out)."""
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
