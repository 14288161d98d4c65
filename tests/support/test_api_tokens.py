"""Personal API tokens: created on the settings page or the shell, shown once, hashed, revoked;
the API answers bearer tokens only, within their scope and rate limit."""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa
from limits.storage import storage_from_string

from requests_queue.models import ApiToken
from support.auth.throttle import EXTENSION
from support.cli import create_token_command

PROBLEM = "application/problem+json"


def _created_token(response) -> str:
    match = re.search(r'<code id="new-token">(cdk_[\w-]+)</code>', response.get_data(as_text=True))
    assert match, "the new token is shown on the page"
    return match.group(1)


def test_a_customer_creates_a_token_on_the_settings_page_and_sees_it_once(
    client, api, session, customer, make_contact
):
    make_contact(customer, email="ada@acme.example", consent=True)
    client.login(customer.email)
    response = client.post("/account/tokens", {"name": "Sending pipeline", "scope": "read"})
    assert response.status_code == 200
    secret = _created_token(response)

    stored = session.scalar(sa.select(ApiToken))
    assert stored.name == "Sending pipeline" and stored.scope.value == "read"
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {stored.prefix, stored.token_hash} and secret.startswith(stored.prefix)

    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "Sending pipeline" in listing and f"{stored.prefix}…" in listing
    assert secret not in listing  # shown once, never again

    answer = api.get("/api/v1/addresses/ada@acme.example", secret)
    assert answer.status_code == 200 and answer.json["marketable"] is True
    session.refresh(stored)
    assert stored.last_used_at is not None and stored.last_used_ip == "127.0.0.1"


def test_a_token_needs_a_name(client, customer):
    client.login(customer.email)
    response = client.post("/account/tokens", {"name": "  ", "scope": "write"})
    assert response.status_code == 400
    assert "Give the token a name" in response.get_data(as_text=True)


def test_a_revoked_token_gets_401(client, api, session, customer, make_token):
    secret = make_token(customer, name="Old script")
    assert api.get("/api/v1/requests", secret).status_code == 200
    client.login(customer.email)
    token_id = session.scalar(sa.select(ApiToken.id))
    response = client.post(f"/account/tokens/{token_id}/revoke")
    assert response.status_code == 302

    refused = api.get("/api/v1/requests", secret)
    assert refused.status_code == 401
    assert refused.mimetype == PROBLEM
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Revoked" in client.get("/account/tokens").get_data(as_text=True)


def test_nobody_revokes_another_users_token(client, session, customer, other_customer, make_token):
    make_token(other_customer)
    token_id = session.scalar(sa.select(ApiToken.id))
    client.login(customer.email)
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert session.scalar(sa.select(ApiToken.revoked_at)) is None


def test_staff_have_tokens_too(client, agent):
    client.login(agent.email)
    response = client.post("/account/tokens", {"name": "Desk bot", "scope": "write"})
    assert response.status_code == 200 and _created_token(response)


def test_a_logged_in_browser_session_gets_401_from_the_api(client, customer):
    client.login(customer.email)
    assert client.get("/contacts").status_code == 200  # the cookie works on the web
    refused = client.get("/api/v1/requests")
    assert refused.status_code == 401
    assert refused.mimetype == PROBLEM
    assert refused.json["status"] == 401


def test_unknown_and_malformed_tokens_get_401(api, customer):
    for header in ("Bearer cdk_not-a-token", "Basic dXNlcjpwYXNz", "Bearer ", "cdk_x"):
        response = api.get("/api/v1/requests", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_token_calls_need_no_csrf_token(api, customer, make_token):
    # The client sends no cookie and no CSRF token; the web's forms would refuse this POST.
    response = api.post("/api/v1/addresses/lookup", make_token(customer), json={"addresses": []})
    assert response.status_code == 422  # refused for its content, not for CSRF
    assert response.json["errors"][0]["field"] == "addresses"


def test_a_read_token_reads_but_cannot_write(api, customer, make_token, make_contact):
    make_contact(customer, email="ada@acme.example")
    secret = make_token(customer, scope="read")
    assert api.get("/api/v1/requests", secret).status_code == 200
    lookup = api.post("/api/v1/addresses/lookup", secret, json={"addresses": ["ada@acme.example"]})
    assert lookup.status_code == 200  # a POST that only reads
    filing = api.post("/api/v1/requests", secret, json={"kind": "mass_opt_in", "evidence": {}})
    assert filing.status_code == 403
    assert "only read" in filing.json["detail"]


def test_each_token_has_its_own_rate_limit_with_retry_after(app, api, customer, make_token):
    app.config["API_RATE_LIMIT"] = "3/minute"
    first, second = make_token(customer), make_token(customer)
    for _ in range(3):
        assert api.get("/api/v1/requests", first).status_code == 200
    limited = api.get("/api/v1/requests", first)
    assert limited.status_code == 429
    assert limited.mimetype == PROBLEM
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert api.get("/api/v1/requests", second).status_code == 200  # another token's count


def test_with_the_counters_unreachable_the_api_answers_503_not_uncounted_calls(
    app, api, customer, make_token
):
    secret = make_token(customer)
    # The real Redis storage, pointed at loopback port 1 where nothing listens.
    app.extensions[EXTENSION] = storage_from_string("redis://127.0.0.1:1/0")
    refused = api.get("/api/v1/requests", secret)
    assert refused.status_code == 503
    assert refused.mimetype == PROBLEM
    assert refused.headers["Retry-After"] == "30"
    assert "can't be counted" in refused.get_json()["detail"]


def test_the_shell_mints_a_token_on_the_last_line(app, api, customer):
    result = app.test_cli_runner().invoke(
        create_token_command, [customer.email, "--name", "Ops script", "--scope", "read"]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert api.get("/api/v1/requests", secret).status_code == 200


def test_the_shell_refuses_an_unknown_user(app):
    result = app.test_cli_runner().invoke(create_token_command, ["nobody@x.example", "--name", "x"])
    assert result.exit_code != 0 and "no user" in result.output
