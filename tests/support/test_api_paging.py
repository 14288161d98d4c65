"""Pages that run oldest first: the desk's queue by request and an import's skipped rows by line."""

from __future__ import annotations

import io

from support import background


def test_the_queue_pages_oldest_first_with_a_next_link(
    api, customer, agent, make_token, file_opt_in
):
    ids = [file_opt_in(customer, n=1, prefix=f"q{i}").id for i in range(3)]
    token = make_token(agent)
    first = api.get("/api/v1/queue?limit=2", token).json
    assert [r["id"] for r in first["items"]] == ids[:2]
    second = api.get(first["next"], token).json
    assert [r["id"] for r in second["items"]] == ids[2:] and second["next"] is None


def test_an_import_s_skipped_rows_page_in_file_order(app, api, customer, make_token, tmp_path):
    rows = "".join(f"bad-{n},Row{n}\n" for n in range(5))
    data = {"file": (io.BytesIO(f"Email,First Name\n{rows}".encode()), "c.csv"), "permission": "no"}
    token = make_token(customer)
    batch = api.post("/api/v1/imports", token, data=data, content_type="multipart/form-data")
    background.wait("import")
    url = f"/api/v1/imports/{batch.json['id']}/skipped?limit=3"
    first = api.get(url, token).json
    assert [r["line"] for r in first["items"]] == [2, 3, 4]
    second = api.get(first["next"], token).json
    assert [r["line"] for r in second["items"]] == [5, 6] and second["next"] is None
