"""Failed logins are limited per client address and per email, with one answer for everybody."""

import os
import re
import time

import pytest
import redis

from support import create_app
from support.auth import views as auth_views
from support.extensions import db as _db

from ..conftest import PASSWORD, Client

UNKNOWN = "other@acme.example"  # as long as the real one: same Content-Length
# Databases 15, 14, …: one per pytest-xdist worker, each flushed by its own tests only.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:])
REDIS_URL = f"redis://127.0.0.1:6379/{15 - _WORKER % 8}"


def answer(response, email: str) -> tuple:
    """What a visitor sees, without the per-session CSRF token and the address they typed."""
    body = response.get_data(as_text=True).replace(email, "EMAIL")
    body = re.sub(
        r'(csrf-token" content|name="csrf_token" type="hidden" value)="[^"]*"', r"\1", body
    )
    # A fresh cookie and request id on every response, whoever logs in: not an answer's content.
    per_response = ("Set-Cookie", "X-Request-ID")
    headers = sorted((k, v) for k, v in response.headers.items() if k not in per_response)
    return response.status_code, headers, body


def login(client: Client, email: str, password: str = PASSWORD, source: str = "127.0.0.1"):
    """A login from client address `source`."""
    data = {"email": email, "password": password}
    return client.post("/login", data, environ_overrides={"REMOTE_ADDR": source})


def failures(client: Client, email: str, count: int) -> list:
    """`count` wrong passwords for `email`, and the answers."""
    return [login(client, email, "wrong-password") for _ in range(count)]


def test_a_real_and_an_unknown_email_get_the_same_answers_before_and_after_the_lock(
    client, customer
):
    real = [answer(r, customer.email) for r in failures(client, customer.email, 6)]
    unknown = [answer(r, UNKNOWN) for r in failures(client, UNKNOWN, 6)]
    assert real == unknown
    assert [status for status, _, _ in real] == [200] * 5 + [429]
    assert "Wrong email or password." in real[0][2]
    assert "Too many failed attempts. Try again in 15 minute(s)." in real[5][2]
    assert ("Retry-After", "900") in real[5][1]


def test_every_answer_hashes_the_password_once_whether_or_not_the_account_exists(
    client, customer, monkeypatch
):
    hashed = []

    def counting_verify(stored_hash, password):
        hashed.append(stored_hash == customer.password_hash)
        return real_verify(stored_hash, password)

    real_verify = auth_views.verify_password
    monkeypatch.setattr(auth_views, "verify_password", counting_verify)
    for email in (customer.email, UNKNOWN):
        hashed.clear()
        failures(client, email, 6)
        assert len(hashed) == 6  # five failures and the locked answer: one hash each
    failures(client, "third@acme.example", 1)
    assert len(hashed) == 7


def test_the_right_password_gets_the_lock_answer_until_the_window_ends(app, client, customer):
    window = 6
    app.config["LOGIN_LOCK_MINUTES"] = window / 60
    started = time.monotonic()
    failures(client, customer.email, 1)
    # The window opened with that first failure, somewhere between `started` and now: on a busy
    # machine the first request alone can take over a second, so the wait is counted from here.
    first_counted = time.monotonic()
    failures(client, customer.email, 4)
    locked = login(client, customer.email)
    assert time.monotonic() - started < window, "the machine was too slow for this window"
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    assert client.get("/contacts").status_code == 302  # not logged in
    time.sleep(max(0, first_counted + window + 0.5 - time.monotonic()))
    response = login(client, customer.email)
    assert response.status_code == 302 and response.headers["Location"] == "/home"


def test_the_client_limit_counts_failures_across_different_emails(app, client, customer):
    app.config["LOGIN_MAX_FAILURES_PER_CLIENT"] = 3
    for i in range(3):
        assert login(client, f"guess{i}@acme.example", "wrong-password").status_code == 200
    assert login(client, customer.email).status_code == 429
    assert login(client, customer.email, source="192.0.2.7").status_code == 302


def test_the_email_limit_counts_failures_from_every_client_address(client, customer):
    for i in range(5):
        wrong = login(client, customer.email, "wrong-password", source=f"192.0.2.{i + 1}")
        assert wrong.status_code == 200
    # The same mailbox in another spelling shares the count.
    assert login(client, " Owner@ACME.example", source="198.51.100.1").status_code == 429


def test_successful_logins_do_not_count(client, customer):
    for _ in range(8):
        assert login(client, customer.email).status_code == 302
        client.logout()
    failures(client, customer.email, 4)
    assert login(client, customer.email).status_code == 302


@pytest.fixture
def shared_redis():
    """This worker's Redis database, empty before and after the test."""
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


def test_two_app_processes_share_one_count_in_redis(app, customer, shared_redis):
    config = {
        key: app.config[key]
        for key in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "SERVER_NAME")
    }
    first, second = (create_app({**config, "RATELIMIT_STORAGE_URI": REDIS_URL}) for _ in "12")
    try:
        failures(Client(first), customer.email, 3)
        failures(Client(second), customer.email, 2)
        assert shared_redis.keys("*login-failures*")
        for instance in (first, second):
            assert login(Client(instance), customer.email).status_code == 429
        assert login(Client(app), customer.email).status_code == 302  # memory: its own count
    finally:
        for instance in (first, second):
            with instance.app_context():
                _db.engine.dispose()


def _app_with(app, **settings):
    config = {
        key: app.config[key]
        for key in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "SERVER_NAME")
    }
    return create_app({**config, **settings})


def test_with_redis_unreachable_signing_in_is_refused_with_a_message_not_a_500(app, customer):
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    down = _app_with(app, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    try:
        visitor = Client(down)
        response = login(visitor, customer.email)  # the right password
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert "Signing in is unavailable for a moment" in response.get_data(as_text=True)
        # Nothing was let through uncounted: the right password did not start a session.
        assert "/login" in visitor.get("/").headers["Location"]
    finally:
        with down.app_context():
            _db.engine.dispose()


def test_flask_limiters_switch_does_not_turn_the_login_lock_off(app, customer):
    switched = _app_with(app, RATELIMIT_ENABLED=False)
    try:
        client = Client(switched)
        assert [r.status_code for r in failures(client, customer.email, 6)] == [200] * 5 + [429]
        assert login(client, customer.email).status_code == 429
    finally:
        with switched.app_context():
            _db.engine.dispose()
