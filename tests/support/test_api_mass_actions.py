"""Mass opt-out through the API: preview, run with the confirmed count, the batch's result."""

from __future__ import annotations

import pytest

from tests.background_runs import wait_for_mass_actions


@pytest.fixture
def listed(customer, make_contact):
    """Three Newsletter contacts of Acme: two opted in, one not marketable."""
    make_contact(customer, first_name="a", email="a@acme.example", consent=True, tags=("N",))
    make_contact(customer, first_name="b", email="b@acme.example", consent=True, tags=("N",))
    make_contact(customer, first_name="c", email="c@acme.example", tags=("N",))


def test_preview_then_run_with_the_confirmed_count(api, customer, make_token, listed):
    token = make_token(customer)
    preview = api.post("/api/v1/mass-actions/preview", token, json={"fields": ["email"]})
    assert preview.status_code == 200
    assert preview.json["total"] == 3 and preview.json["changing"] == 3
    preview_in = api.post("/api/v1/mass-actions/preview", token, json={"direction": "opt_in"}).json
    assert preview_in["changing"] == 1 and preview_in["skipped"] == 2

    wrong = api.post("/api/v1/mass-actions", token, json={"confirm_count": 2})
    assert wrong.status_code == 422
    assert wrong.json["errors"][0]["field"] == "confirm_count"
    assert "type 3" in wrong.json["errors"][0]["message"].lower()

    done = api.post("/api/v1/mass-actions", token, json={"confirm_count": 3})
    assert done.status_code == 202 and done.json["expected_count"] == 3
    assert done.json["state"] in ("applying", "done")  # recorded; applied in the background
    batch = done.json["id"]
    assert done.headers["Location"].endswith(f"/api/v1/mass-actions/{batch}")
    wait_for_mass_actions()
    result = api.get(f"/api/v1/mass-actions/{batch}", token).json
    assert (result["state"], result["changed_count"], result["percent_done"]) == ("done", 3, 100)
    assert result["finished_at"] is not None
    items = api.get(f"/api/v1/mass-actions/{batch}/addresses?limit=2", token).json
    assert [i["prior_status"] for i in items["items"]] == ["single_opt_in", "single_opt_in"]
    assert {i["status_now"] for i in items["items"]} == {"opted_out_by_user"}
    rest = api.get(items["next"], token).json
    assert [i["prior_status"] for i in rest["items"]] == ["non_marketable"]
    listing = api.get("/api/v1/mass-actions", token).json
    assert [b["id"] for b in listing["items"]] == [batch]
    check = api.get("/api/v1/addresses/a@acme.example", token).json
    assert check["marketable"] is False and check["why"]["id"] == batch


def test_a_read_token_previews_but_cannot_opt_out(api, customer, make_token, listed):
    token = make_token(customer, scope="read")
    assert api.post("/api/v1/mass-actions/preview", token, json={}).status_code == 200
    assert api.post("/api/v1/mass-actions", token, json={"confirm_count": 3}).status_code == 403


def test_another_accounts_batch_is_a_404(api, customer, other_customer, make_token, make_contact):
    make_contact(other_customer, email="x@globex.example", consent=True)
    theirs = api.post("/api/v1/mass-actions", make_token(other_customer), json={"confirm_count": 1})
    assert theirs.status_code == 202
    wait_for_mass_actions()
    token = make_token(customer)
    batch = theirs.json["id"]
    assert api.get(f"/api/v1/mass-actions/{batch}", token).status_code == 404
    assert api.get(f"/api/v1/mass-actions/{batch}/addresses", token).status_code == 404
    assert api.get("/api/v1/mass-actions", token).json["items"] == []
    undo = {
        "kind": "undo_opt_out",
        "mass_action_id": batch,
        "evidence": {"reason": "x"},
    }
    assert api.post("/api/v1/requests", token, json=undo).status_code == 404
