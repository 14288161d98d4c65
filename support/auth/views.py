"""Log in, log out, and send each role to its home page."""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from requests_queue.models import Role, User

from ..edge import operation
from ..extensions import db
from .forms import LoginForm
from .passwords import DUMMY_HASH, verify_password
from .redirects import safe_next
from .session import log_out_everywhere, start_session
from .throttle import begin_attempt

bp = Blueprint("auth", __name__)

# Each role's first page says what needs them: the customer's questions and requests, the
# agent's own claimed requests by due time, the manager's SLA dashboard.
HOME = {Role.customer: "customer.home", Role.agent: "agent.mine", Role.manager: "manager.dashboard"}


@bp.route("/")
def index():
    """Send visitors to their role's home page, or to the login page."""
    if current_user.is_authenticated:
        return redirect(url_for(HOME[current_user.role]))
    return redirect(url_for("auth.login"))


@bp.route("/favicon.ico")
def favicon():
    """Browsers that ask for the old name get the site's icon."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Check the password; too many failures, per client or per email, lock logins for a while."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    email = form.email.data.strip().lower()
    attempt = begin_attempt(email)
    if attempt.is_locked:
        # The same page, status and hashing work whether or not the address has an account.
        verify_password(DUMMY_HASH, form.password.data)
        form.password.errors.append(attempt.locked_message)
        page = render_template("auth/login.html", form=form)
        return page, attempt.status, {"Retry-After": str(attempt.retry_after)}
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None or not user.is_active:
        verify_password(DUMMY_HASH, form.password.data)
    elif verify_password(user.password_hash, form.password.data):
        attempt.succeeded()
        with operation():  # the browser's zone, taken at a first login (account_views)
            start_session(user)
        return redirect(safe_next(request.args.get("next", "")) or url_for(HOME[user.role]))
    form.password.errors.append("Wrong email or password.")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the session, and every other session of this user (a POST, so no site can force it)."""
    # A cookie copied before logout (a shared computer, a stolen cookie) must not outlive it.
    log_out_everywhere()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


from . import account_views, token_views  # noqa: E402, F401  (register /account, its tokens)
