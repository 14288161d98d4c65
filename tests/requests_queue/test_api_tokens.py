"""Personal API tokens in the domain: a hash stored, refused once revoked, use noted sparingly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from requests_queue.api_tokens import (
    authenticate_token,
    create_token,
    revoke_token,
    token_hash,
)
from requests_queue.errors import NotFound, ValidationError
from tests.conftest import NOW


def test_only_a_prefix_and_a_hash_are_stored(session, customer):
    new = create_token(session, customer, " Pipeline ", "read", NOW)
    assert new.secret.startswith("cdk_") and len(new.secret) >= 40
    assert new.token.name == "Pipeline" and new.token.prefix == new.secret[:12]
    assert new.token.token_hash == token_hash(new.secret) != new.secret


@pytest.mark.parametrize(
    ("name", "scope", "field"),
    [("", "read", "name"), ("x" * 81, "read", "name"), ("a", "admin", "scope")],
)
def test_raises_for_a_missing_name_or_an_unknown_scope(session, customer, name, scope, field):
    with pytest.raises(ValidationError) as error:
        create_token(session, customer, name, scope, NOW)
    assert error.value.field == field


def test_authenticates_the_live_token_and_records_its_use_once_a_minute(session, customer):
    new = create_token(session, customer, "script", "write", NOW)
    assert authenticate_token(session, new.secret, NOW, "10.0.0.1") is new.token
    assert (new.token.last_used_at, new.token.last_used_ip) == (NOW, "10.0.0.1")
    authenticate_token(session, new.secret, NOW + timedelta(seconds=30), "10.0.0.1")
    assert new.token.last_used_at == NOW  # not rewritten within the minute
    authenticate_token(session, new.secret, NOW + timedelta(minutes=2), "10.0.0.1")
    assert new.token.last_used_at == NOW + timedelta(minutes=2)


def test_refuses_unknown_revoked_and_inactive_users_tokens(session, customer, other_customer):
    new = create_token(session, customer, "script", "write", NOW)
    assert authenticate_token(session, new.secret + "x", NOW) is None
    assert authenticate_token(session, "not-a-token", NOW) is None
    with pytest.raises(NotFound):
        revoke_token(session, other_customer.id, new.token.id, NOW)  # not theirs
    revoke_token(session, customer.id, new.token.id, NOW)
    assert authenticate_token(session, new.secret, NOW) is None
    other = create_token(session, other_customer, "script", "read", NOW)
    other_customer.is_active = False
    assert authenticate_token(session, other.secret, NOW) is None
