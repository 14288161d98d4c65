"""Personal API tokens: create (the secret is returned once), revoke, and authenticate.

A token is `cdk_` followed by 43 random URL-safe characters (256 bits). Only its first
characters and its sha256 are stored: the token is random and long, so nobody can guess one
from the hash, and the hash is looked up through a unique index in one read.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from .errors import NotFound, ValidationError
from .models import ApiToken, TokenScope, User

TOKEN_PREFIX = "cdk_"
SHOWN_PREFIX = 12  # "cdk_" and 8 random characters: enough to tell a user's tokens apart
MAX_NAME = 80
MAX_TOKEN = 200  # anything longer than a token can be is refused before hashing
# Writing "last used" on every call would make every API read a write; once a minute is
# enough to tell an owner whether (and from where) a token is still in use.
USE_RECORDED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    """A token just created: `secret` is shown to its owner once and never stored."""

    token: ApiToken
    secret: str


def token_hash(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def check_token_name(name: str) -> str:
    """A token's name: 1–80 characters, trimmed."""
    text = (name or "").strip()
    if not text:
        raise ValidationError("name", "give the token a name, e.g. what will use it")
    if len(text) > MAX_NAME:
        raise ValidationError("name", f"keep the name under {MAX_NAME} characters")
    return text


def check_scope(value: str) -> TokenScope:
    """`read` or `write`."""
    try:
        return TokenScope(value)
    except ValueError:
        raise ValidationError("scope", "choose read or write") from None


def create_token(session: Session, user: User, name: str, scope: str, now: datetime) -> NewToken:
    """A new token for `user`; the caller shows `secret` once and commits."""
    if not user.is_active:
        raise ValidationError(None, "an inactive user cannot have tokens")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=check_token_name(name),
        scope=check_scope(scope),
        prefix=secret[:SHOWN_PREFIX],
        token_hash=token_hash(secret),
        created_at=now,
    )
    session.add(token)
    session.flush()
    return NewToken(token, secret)


def user_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they stay listed)."""
    return list(
        session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, user_id: int, token_id: int, now: datetime) -> ApiToken:
    """Revoke one of the user's tokens (revoking twice keeps the first time)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(f"token {token_id} does not exist")
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


def authenticate_token(
    session: Session, secret: str, now: datetime, ip: str | None = None
) -> ApiToken | None:
    """The live token `secret` names (its user active), or None; records its use."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN:
        return None
    token = session.scalar(
        sa.select(ApiToken)
        .where(ApiToken.token_hash == token_hash(secret))
        .options(joinedload(ApiToken.user))  # one round trip: every call reads the user
    )
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    ip = (ip or "")[:45] or None
    stale = token.last_used_at is None or now - token.last_used_at >= USE_RECORDED_EVERY
    if stale or token.last_used_ip != ip:  # left for the caller's commit (`session.dirty`)
        token.last_used_at = now
        token.last_used_ip = ip
    return token
