"""The OpenAPI 3.1 document, the browsable reference from vendored files, and API-shaped
answers for paths and methods the API does not have."""

from __future__ import annotations

import re

PROBLEM = "application/problem+json"


def test_the_document_is_openapi_3_1_generated_from_the_code(api):
    response = api.get("/api/v1/openapi.json")  # no token: it describes, it holds no data
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path in (
        "/api/v1/addresses/{email}",
        "/api/v1/addresses/lookup",
        "/api/v1/addresses/{email}/history",
        "/api/v1/contacts",
        "/api/v1/imports",
        "/api/v1/mass-actions/preview",
        "/api/v1/requests",
        "/api/v1/requests/{request_id}/approve",
        "/api/v1/queue",
    ):
        assert path in spec["paths"], path
    problem = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(problem) == [PROBLEM]


def test_the_reference_page_runs_vendored_swagger_ui_without_inline_script(api):
    response = api.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all('src="/static/' in attrs for attrs in scripts)
    assert "style=" not in page and "http" not in page.replace("http-equiv", "")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        served = api.get(asset)
        assert served.status_code == 200, asset
        served.close()


def test_unknown_paths_and_methods_answer_as_problems(api, customer, make_token):
    token = make_token(customer)
    missing = api.get("/api/v1/no-such-thing", token)
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    # A POST the app cannot route is not refused for CSRF (a 400 HTML page) but as a 404.
    assert api.post("/api/v1/no-such-thing", token, json={}).status_code == 404
    wrong = api.call("DELETE", "/api/v1/requests", token)
    assert wrong.status_code == 405 and wrong.mimetype == PROBLEM
    assert set(wrong.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert api.get("/api/v1/requests/٣", token).mimetype == PROBLEM
