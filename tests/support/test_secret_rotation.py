"""Rotating SECRET_KEY: links already sent and sessions already open keep working while the
previous key is given as SECRET_KEY_PREVIOUS; without it they stop (nothing else does)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from requests_queue.models import CampaignRecipient
from requests_queue.now import now_utc
from support import create_app
from support.config import from_environment
from support.extensions import db
from tests.conftest import Client


def rotated(app, previous: list[str]):
    """The same installation after the rotation: a new SECRET_KEY, maybe the old one kept."""
    return create_app({**app.config, "SECRET_KEY": "new-secret", "SECRET_KEY_FALLBACKS": previous})


def test_secret_key_previous_is_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "new-secret")
    monkeypatch.setenv("SECRET_KEY_PREVIOUS", "old-secret")
    assert from_environment(str(tmp_path))["SECRET_KEY_FALLBACKS"] == ["old-secret"]
    monkeypatch.delenv("SECRET_KEY_PREVIOUS")
    assert from_environment(str(tmp_path))["SECRET_KEY_FALLBACKS"] == []


@pytest.mark.parametrize(("previous", "status"), [(["test-secret"], 200), ([], 404)])
def test_a_confirmation_link_sent_before_the_rotation(
    app, session, customer, make_contact, make_campaign, previous, status
):
    make_contact(customer, first_name="Ann", consent=True, email="ann@acme.example")
    make_campaign(customer, at=now_utc())  # signed with the old key, "test-secret"
    token = session.scalar(sa.select(CampaignRecipient.confirm_token))
    after = rotated(app, previous)
    with after.app_context():
        response = after.test_client().get(f"/r/confirm/{token}")
        db.session.remove()
        db.engine.dispose()  # this app's own pool: closed, not left to the garbage collector
    assert response.status_code == status


@pytest.mark.parametrize(("previous", "status"), [(["test-secret"], 200), ([], 302)])
def test_a_session_opened_before_the_rotation(app, client, customer, previous, status):
    client.login(customer.email)
    cookie = client.http.get_cookie("session").value
    after = rotated(app, previous)
    with after.app_context():
        browser = Client(after)
        browser.http.set_cookie("session", cookie, domain="localhost")
        answered = browser.get("/contacts").status_code
        db.session.remove()
        db.engine.dispose()
    assert answered == status
