"""The people who log in, and a manager's "Sign out everywhere" for any one of them."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from requests_queue.models import Account, Role, User

from ..auth.forms import SignOutEverywhereForm
from ..auth.session import end_all_sessions
from ..edge import operation
from ..extensions import db
from ..ids import query_text
from .views import bp

SHOWN = 100


@bp.route("/users")
def users():
    """Support staff first, then customers; a search narrows by address or account name."""
    search = query_text("q", 254)
    query = (
        sa.select(User)
        .outerjoin(Account, User.account_id == Account.id)
        .options(selectinload(User.account))
        .order_by(sa.case((User.role == Role.customer, 1), else_=0), User.email)
        .limit(SHOWN + 1)
    )
    if search:
        query = query.where(
            sa.or_(
                User.email.contains(search.lower(), autoescape=True),
                sa.func.lower(Account.name).contains(search.lower(), autoescape=True),
            )
        )
    found = db.session.scalars(query).all()
    return render_template(
        "manager/users.html",
        users=found[:SHOWN],
        more=len(found) > SHOWN,
        search=search,
        form=SignOutEverywhereForm(),
    )


@bp.route("/users/<id:user_id>/sign-out-everywhere", methods=["POST"])
def sign_out_user(user_id: int):
    """End every session of one user (a lost laptop, a leaver, a suspected stolen cookie)."""
    user = db.session.get(User, user_id) or abort(404)
    with operation() as op:
        end_all_sessions(user.id)
    if op.done:
        flash(f"{user.email} was signed out everywhere.", "success")
    return redirect(url_for("manager.users", q=request.args.get("q") or None))
