"""Who is logged in, and the role checks each blueprint declares once."""

from collections.abc import Iterable

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, session
from flask_login import current_user, login_required, login_user, logout_user

from requests_queue.models import Role, User
from requests_queue.statuses import Actor, ActorKind, EventChannel

from ..edge import committed
from ..extensions import db, login_manager
from ..ids import parse_number


def register_login(app: Flask) -> None:
    """Bind Flask-Login; unauthenticated visitors go to the login page."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"


# The user's session version when this session was issued (see User.session_version).
VERSION_KEY = "session_version"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    # Only a forged or stale cookie holds anything but an id; it is nobody, not an error.
    user_pk = parse_number(user_id)
    user = db.session.get(User, user_pk) if user_pk is not None else None
    if user is None or not user.is_active:
        return None
    # A cookie saved before a logout, a password change or "sign out everywhere" (or one
    # issued before versions existed) carries another version: it logs nobody in.
    if session.get(VERSION_KEY) != user.session_version:
        return None
    return user


def start_session(user: User) -> None:
    """Log `user` in on this client, bound to the user's current session version."""
    login_user(user)
    session[VERSION_KEY] = user.session_version


def end_all_sessions(user_id: int) -> None:
    """Every session of the user ends (the caller commits; `start_session` opens a new one)."""
    # One UPDATE, so two requests ending sessions at once both count.
    db.session.execute(
        sa.update(User)
        .where(User.id == user_id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )


def log_out_everywhere() -> None:
    """End every session of the current user, this client's included, and commit (the logout
    and "sign out everywhere" views' one operation)."""
    with committed():
        end_all_sessions(current_user.id)
    logout_user()
    session.pop(VERSION_KEY, None)


def require_roles(bp: Blueprint, roles: Iterable[Role]) -> None:
    """Every view of `bp` needs a logged-in user with one of `roles` (403 otherwise)."""
    allowed = frozenset(roles)

    @bp.before_request
    @login_required
    def _check_role():
        if current_user.role not in allowed:
            abort(403)


def current_actor() -> Actor:
    """The logged-in user as the domain's actor."""
    return Actor(ActorKind(current_user.role.value), current_user.id, EventChannel.web)
