"""Log lines: one JSON object each, naming request, user and account; nothing secret in them."""

from __future__ import annotations

import json

import pytest

from requests_queue.jobs.runner import JobRunner
from support.logs import configure_logging
from tests.conftest import PASSWORD


@pytest.fixture
def json_logs(app, capsys):
    """JSON log lines on stderr; a function returning those written so far, parsed."""
    configure_logging("json")
    capsys.readouterr()

    def lines() -> list[dict]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]

    yield lines
    configure_logging("plain")


def test_each_request_line_names_its_request_user_and_account(client, customer, json_logs):
    client.login(customer.email)
    json_logs()
    response = client.get("/contacts?q=secret-search")
    lines = json_logs()
    line = next(x for x in lines if x["logger"] == "consent_desk.requests")
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert (line["user_id"], line["account_id"]) == (customer.id, customer.account_id)
    assert line["message"].startswith("GET /contacts 200")
    assert line["status"] == 200 and line["level"] == "INFO" and line["timestamp"]
    assert "secret-search" not in json.dumps(lines)  # query strings are never logged


def test_a_proxy_s_request_id_is_taken_only_from_a_trusted_proxy(app, client):
    sent = {"X-Request-ID": "from-the-proxy-42"}
    assert client.get("/healthz", headers=sent).headers["X-Request-ID"] != "from-the-proxy-42"
    from support import create_app

    trusting = create_app({**app.config, "TRUSTED_PROXIES": 1})
    answer = trusting.test_client().get("/healthz", headers=sent)
    assert answer.headers["X-Request-ID"] == "from-the-proxy-42"
    forged = 'x" "level": "ERROR'
    answer = trusting.test_client().get("/healthz", headers={"X-Request-ID": forged})
    assert answer.headers["X-Request-ID"] != forged  # nothing that could fake a log field


def test_no_password_session_or_recipient_token_is_logged(client, customer, json_logs):
    client.login(customer.email, PASSWORD)
    token = "1.2.abcdefgh.0123456789abcdefghijklmnop"
    client.get(f"/r/confirm/{token}")
    cookie = client.http.get_cookie("session").value
    text = "\n".join(json.dumps(x, ensure_ascii=False) for x in json_logs())
    assert "/r/confirm/…" in text
    for secret in (PASSWORD, token, cookie):
        assert secret not in text


def test_job_lines_carry_their_run_id(app, db, json_logs):
    run_id = JobRunner(db.engine, settings=dict(app.config)).run("prune_job_runs")
    line = next(x for x in json_logs() if "prune_job_runs" in x["message"])
    assert line["run_id"] == f"job:prune_job_runs:{run_id}"


def test_the_500_page_shows_the_request_id(app, client):
    @app.get("/fails")
    def fails():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/fails")
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] in response.get_data(as_text=True)
