"""Imports through the API: upload with mapping and permission, poll, the skipped rows."""

from __future__ import annotations

import io
import json

import pytest

from support import background

CSV = (
    "Email,First Name,Company\n"
    "ada@acme.example,Ada,Analytical\n"
    "not-an-address,Bob,Nowhere\n"
    "cy@acme.example,Cy,Cyan\n"
)


@pytest.fixture(autouse=True)
def imports_dir(app, tmp_path):
    """No test leaves an import running."""
    yield
    background.wait("import")


def _upload(api, token, content: str = CSV, **form):
    data = {"file": (io.BytesIO(content.encode()), "contacts.csv"), **form}
    return api.post("/api/v1/imports", token, data=data, content_type="multipart/form-data")


def test_an_upload_runs_in_the_background_and_reports_its_rows(api, customer, make_token):
    token = make_token(customer)
    started = _upload(api, token, permission="yes", tag="Imported")
    assert started.status_code == 202, started.json
    batch = started.json["id"]
    assert started.headers["Location"].endswith(f"/api/v1/imports/{batch}")
    assert started.json["permission_confirmed"] is True
    background.wait("import")
    done = api.get(f"/api/v1/imports/{batch}", token).json
    assert done["done"] is True and done["state"] == "finished"
    assert (done["created"], done["skipped"]) == (2, 1)
    assert done["skipped_by_reason"] == {"invalid_address": 1}
    skipped = api.get(f"/api/v1/imports/{batch}/skipped", token).json
    assert [(r["line"], r["reason"]) for r in skipped["items"]] == [(3, "invalid_address")]
    assert skipped["items"][0]["cells"][0] == "not-an-address"
    check = api.get("/api/v1/addresses/ada@acme.example", token).json
    assert check["status"] == "single_opt_in" and check["why"]["kind"] == "import"
    assert [i["id"] for i in api.get("/api/v1/imports", token).json["items"]] == [batch]


def test_a_file_name_with_a_nul_is_stored_without_it(api, customer, make_token):
    data = {"file": (io.BytesIO(CSV.encode()), "a\x00b.csv"), "permission": "no"}
    token = make_token(customer)
    started = api.post("/api/v1/imports", token, data=data, content_type="multipart/form-data")
    assert started.status_code == 202 and started.json["filename"] == "ab.csv"


def test_a_mapping_chooses_the_columns(api, customer, make_token):
    token = make_token(customer)
    mapping = json.dumps({"0": "email", "1": "last_name"})
    started = _upload(api, token, permission="no", mapping=mapping)
    assert started.status_code == 202
    background.wait("import")
    contacts = api.get("/api/v1/contacts", token).json["items"]
    assert sorted(c["last_name"] for c in contacts) == ["Ada", "Cy"]
    assert {c["company"] for c in contacts} == {""}
    assert {c["addresses"][0]["status"] for c in contacts} == {"non_marketable"}


def test_refusals_name_their_field(api, customer, make_token):
    token = make_token(customer)
    no_answer = _upload(api, token)
    assert no_answer.status_code == 422
    assert [e["field"] for e in no_answer.json["errors"]] == ["permission"]
    empty = _upload(api, token, content="", permission="yes")
    assert empty.status_code == 422 and empty.json["errors"][0]["field"] == "file"
    bad_map = _upload(api, token, permission="yes", mapping='{"0": "shoe size"}')
    assert bad_map.status_code == 422 and bad_map.json["errors"][0]["field"] == "mapping"
    no_email = _upload(api, token, permission="yes", mapping='{"1": "first_name"}')
    assert no_email.status_code == 422 and no_email.json["errors"][0]["field"] == "mapping"


def test_another_accounts_import_is_a_404(api, customer, other_customer, make_token):
    theirs = _upload(api, make_token(other_customer), permission="yes").json["id"]
    background.wait("import")
    token = make_token(customer)
    assert api.get(f"/api/v1/imports/{theirs}", token).status_code == 404
    assert api.get(f"/api/v1/imports/{theirs}/skipped", token).status_code == 404
    assert api.get("/api/v1/imports", token).json["items"] == []
