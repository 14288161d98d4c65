"""Recipient link tokens: valid, expired, tampered, wrong address, wrong purpose."""

from __future__ import annotations

from datetime import timedelta

import pytest

from requests_queue.campaigns.tokens import (
    CONFIRM_MAX_AGE,
    LinkExpired,
    LinkInvalid,
    Purpose,
    TokenClaims,
    make_token,
    read_claims,
    verify_token,
)
from tests.conftest import NOW

SECRET = "test-secret"
ADDRESS = "ada@example.test"
CLAIMS = TokenClaims(campaign_id=7, address_id=42, nonce="n0nce-_x")


def _token(purpose=Purpose.confirm, address=ADDRESS, at=NOW, secret=SECRET, claims=CLAIMS):
    return make_token(secret, purpose, claims, address, at)


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_fresh_token_names_its_campaign_and_address(purpose):
    token = _token(purpose)
    assert verify_token(SECRET, token, purpose, ADDRESS, NOW) == CLAIMS


def test_the_address_never_appears_in_the_link():
    for purpose in Purpose:
        assert "ada" not in _token(purpose) and "example" not in _token(purpose)


@pytest.mark.parametrize(
    ("age", "usable"),
    [
        (timedelta(0), True),
        (CONFIRM_MAX_AGE - timedelta(seconds=1), True),
        (CONFIRM_MAX_AGE, True),
        (CONFIRM_MAX_AGE + timedelta(seconds=1), False),
        (timedelta(days=60), False),
    ],
)
def test_a_confirmation_link_expires_after_14_days(age, usable):
    token = _token(Purpose.confirm)
    if usable:
        verify_token(SECRET, token, Purpose.confirm, ADDRESS, NOW + age)
    else:
        with pytest.raises(LinkExpired):
            verify_token(SECRET, token, Purpose.confirm, ADDRESS, NOW + age)


@pytest.mark.parametrize("age", [timedelta(days=61), timedelta(days=400)])
def test_an_unsubscribe_link_still_works_long_after(age):
    token = _token(Purpose.unsubscribe)
    assert verify_token(SECRET, token, Purpose.unsubscribe, ADDRESS, NOW + age) == CLAIMS


def _tamper(token: str, index: int, replacement: str) -> str:
    parts = token.split(".")
    parts[index] = replacement
    return ".".join(parts)


@pytest.mark.parametrize(
    "tampered",
    [
        pytest.param(lambda t: _tamper(t, 0, "8"), id="other campaign"),
        pytest.param(lambda t: _tamper(t, 1, "43"), id="other address id"),
        pytest.param(lambda t: _tamper(t, 2, "n0nce-_y"), id="other nonce"),
        pytest.param(lambda t: _tamper(t, 3, "AAAAAA"), id="other time"),
        pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="signature"),
        pytest.param(lambda t: t.rpartition(".")[0], id="signature cut off"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "not-a-token", id="garbage"),
        pytest.param(lambda t: t + ".extra", id="extra part"),
    ],
)
def test_rejects_a_tampered_confirmation_link(tampered):
    with pytest.raises(LinkInvalid):
        verify_token(SECRET, tampered(_token()), Purpose.confirm, ADDRESS, NOW)


def test_rejects_a_link_made_for_another_address():
    token = _token(address="bob@example.test")
    with pytest.raises(LinkInvalid):
        verify_token(SECRET, token, Purpose.confirm, ADDRESS, NOW)


def test_rejects_a_link_signed_with_another_secret():
    token = _token(secret="someone-else")
    with pytest.raises(LinkInvalid):
        verify_token(SECRET, token, Purpose.confirm, ADDRESS, NOW)


@pytest.mark.parametrize(
    ("made_as", "used_as"),
    [(Purpose.confirm, Purpose.unsubscribe), (Purpose.unsubscribe, Purpose.confirm)],
)
def test_a_link_for_one_purpose_never_serves_the_other(made_as, used_as):
    with pytest.raises(LinkInvalid):
        verify_token(SECRET, _token(made_as), used_as, ADDRESS, NOW)


def test_rejects_a_confirmation_link_dated_in_the_future():
    token = _token(at=NOW + timedelta(hours=1))
    with pytest.raises(LinkInvalid):
        verify_token(SECRET, token, Purpose.confirm, ADDRESS, NOW)


def test_reads_the_claims_before_verifying_so_the_address_can_be_looked_up():
    assert read_claims(_token(), Purpose.confirm) == CLAIMS
