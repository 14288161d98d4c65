"""API fixtures: personal tokens and a JSON client that sends them as a bearer token."""

from __future__ import annotations

import pytest
from flask import g

from requests_queue.api_tokens import create_token
from requests_queue.now import now_utc


class ApiClient:
    """The test client speaking JSON with `Authorization: Bearer <token>` (and no cookie)."""

    def __init__(self, app):
        self.http = app.test_client(use_cookies=False)

    def call(self, method: str, url: str, token: str | None = None, **kw):
        """One call; `token=None` sends no Authorization header."""
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        for key in list(g):  # a server starts every request with an empty `g`
            g.pop(key)
        return self.http.open(url, method=method, headers=headers, **kw)

    def get(self, url: str, token: str | None = None, **kw):
        return self.call("GET", url, token, **kw)

    def post(self, url: str, token: str | None = None, **kw):
        return self.call("POST", url, token, **kw)

    def put(self, url: str, token: str | None = None, **kw):
        return self.call("PUT", url, token, **kw)


@pytest.fixture
def api(app) -> ApiClient:
    """A JSON client for /api/v1."""
    return ApiClient(app)


@pytest.fixture
def make_token(session):
    """A personal token's secret: make_token(user, scope="write", name="script")."""

    def make(user, scope: str = "write", name: str = "test script") -> str:
        secret = create_token(session, user, name, scope, now_utc()).secret
        session.commit()
        return secret

    return make
