"""Who calls the API: a personal token in `Authorization: Bearer …`, never a session cookie.

Each API blueprint declares once which roles it serves (`protect`); then every request is
authenticated from its header alone, counted against its token's rate limit, and refused
when a read-only token tries to change something.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, request
from limits import parse

from requests_queue.api_tokens import authenticate_token
from requests_queue.models import ApiToken, Role, User
from requests_queue.now import now_utc
from requests_queue.statuses import Actor, ActorKind, EventChannel

from ..auth.throttle import UNAVAILABLE_WAIT, CountersUnavailable, hit_or_wait
from ..extensions import db
from .problems import problem

TOKEN_KEY = "consent_desk.api_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that only read (a body too large for a query string), open to read tokens.
READING_POSTS = frozenset({"addresses.lookup", "mass_actions.preview_action"})
CUSTOMERS = (Role.customer,)
STAFF = (Role.agent, Role.manager)
EVERYONE = (Role.customer, Role.agent, Role.manager)


def _unauthorized(detail: str):
    return problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="api"'})


def _bearer() -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _over_limit(token: ApiToken):
    """429 with Retry-After once the token used up API_RATE_LIMIT, else None."""
    item = parse(current_app.config["API_RATE_LIMIT"])
    # The login counters' storage (memory, or Redis when configured): every process counts
    # each token's calls in one place.
    try:
        wait = hit_or_wait(item, "consent-desk", "api", str(token.id))
    except CountersUnavailable:
        detail = "Calls can't be counted for a moment; try again shortly."
        return problem(503, detail, headers={"Retry-After": str(UNAVAILABLE_WAIT)})
    if wait is None:
        return None
    detail = f"This token made too many calls; try again in {wait} second(s)."
    return problem(429, detail, headers={"Retry-After": str(wait)})


def protect(bp: Blueprint, roles: Iterable[Role]) -> None:
    """Every view of `bp` needs a live token of a user with one of `roles`."""
    allowed = frozenset(roles)

    @bp.before_request
    def _authenticate():
        secret = _bearer()
        if secret is None:
            # A browser's session cookie is ignored here: it never reaches the API.
            return _unauthorized("Send a personal API token: Authorization: Bearer <token>.")
        token = authenticate_token(db.session, secret, now_utc(), request.remote_addr)
        if token is None:
            db.session.rollback()  # nothing was written: end the read before answering 401
            return _unauthorized("This token is unknown or was revoked.")
        # Its "last used", written at most once a minute, is committed before the view runs,
        # so a call the view refuses (and rolls back) is still recorded as a use.
        if db.session.dirty:
            db.session.commit()
        limited = _over_limit(token)
        if limited is not None:
            return limited
        request.environ[TOKEN_KEY] = token
        if token.user.role not in allowed:
            return problem(403, f"A {token.user.role.title.lower()}'s token cannot use this.")
        reads = request.method in SAFE_METHODS or request.endpoint in READING_POSTS
        if not reads and not token.can_write:
            return problem(403, "This token may only read; create a write token to change data.")
        return None


def api_token() -> ApiToken:
    """The token of this request (set by `protect`)."""
    return request.environ[TOKEN_KEY]


def api_user() -> User:
    """The user whose token made this request."""
    return api_token().user


def api_actor() -> Actor:
    """The caller as the domain's actor."""
    user = api_user()
    return Actor(ActorKind(user.role.value), user.id, EventChannel.api)


def account_id() -> int:
    """The caller's account (customers only: `protect` keeps staff out of account views)."""
    user = api_user()
    if user.account_id is None:
        abort(403)
    return user.account_id


def own(model, object_id: int):
    """The caller's account's object with this id, or 404 (exactly as the web's scoping)."""
    obj = db.session.get(model, object_id)
    if obj is None or obj.account_id != account_id():
        abort(404)
    return obj


def own_rows(model) -> sa.Select:
    """SELECT of the caller's account's rows of `model` (a list never shows another's)."""
    return sa.select(model).where(model.account_id == account_id())
