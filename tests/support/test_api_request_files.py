"""Evidence files through the API: a customer attaches them after a JSON filing or answer, until
support starts reviewing it; the type is judged from the content; staff and the customer read
and download them; another account's request or file is a 404."""

from __future__ import annotations

import hashlib
import io

import pytest
import sqlalchemy as sa

from requests_queue.models import ConsentRequest, RequestAttachment
from requests_queue.now import now_utc
from requests_queue.requests.lifecycle import ask_customer, claim_request
from requests_queue.statuses import Actor, ActorKind
from tests.evidence_samples import pdf, png

from .test_api_requests import _file


@pytest.fixture
def filed(api, customer, make_token, make_contact):
    """A mass opt-in filed through the API: (request id, the customer's write token)."""
    make_contact(customer, first_name="ann", email="ann@acme.example")
    token = make_token(customer)
    response = _file(api, token)
    assert response.status_code == 201, response.json
    return response.json["id"], token


def _send(api, token, request_id, *files):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return api.post(
        f"/api/v1/requests/{request_id}/files", token, data=data, content_type="multipart/form-data"
    )


def _stored(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(RequestAttachment))


def test_files_join_the_filing_and_staff_and_the_customer_read_them(
    api, session, agent, make_token, filed
):
    request_id, token = filed
    shot, form = png(), pdf("Sign-up form, March 2025")
    response = _send(api, token, request_id, ("form.png", shot), ("consent export.pdf", form))
    assert response.status_code == 201, response.json
    items = response.json["items"]
    assert [(i["name"], i["content_type"], i["came_with"]) for i in items] == [
        ("form.png", "image/png", "filed"),
        ("consent export.pdf", "application/pdf", "filed"),
    ]
    assert items[0]["sha256"] == hashlib.sha256(shot).hexdigest()
    assert items[1]["size"] == len(form)

    staff = make_token(agent, scope="read")
    listing = api.get(f"/api/v1/requests/{request_id}/files", staff)
    assert [i["id"] for i in listing.json["items"]] == [i["id"] for i in items]
    download = api.get(f"/api/v1/requests/{request_id}/files/{items[0]['id']}", staff)
    assert download.status_code == 200 and download.data == shot
    assert download.mimetype == "image/png"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    mine = api.get(f"/api/v1/requests/{request_id}/files/{items[1]['id']}", token)
    assert mine.data == form


def test_a_file_that_is_not_what_its_name_says_is_refused_and_nothing_is_kept(api, session, filed):
    request_id, token = filed
    response = _send(
        api, token, request_id, ("form.png", png()), ("proof.pdf", b"MZ\x90\x00 not a pdf")
    )
    assert response.status_code == 422
    (error,) = response.json["errors"]
    assert error["field"] == "files"
    assert "“proof.pdf” is not a PNG, JPEG, PDF or CSV file" in error["message"]
    assert _stored(session) == 0  # the good file of the same upload is not kept either


def test_no_file_or_too_many_files_are_refused(api, app, session, filed):
    request_id, token = filed
    empty = api.post(
        f"/api/v1/requests/{request_id}/files", token, data={}, content_type="multipart/form-data"
    )
    assert empty.status_code == 422, empty.json
    assert empty.json["errors"][0]["field"] == "files", empty.json
    many = app.config["EVIDENCE_MAX_FILES"] + 1
    response = _send(api, token, request_id, *[(f"{i}.png", png()) for i in range(many)])
    assert response.status_code == 422
    assert f"at most {many - 1} files" in response.json["errors"][0]["message"]
    assert _stored(session) == 0


def test_once_support_starts_files_wait_for_the_answer_and_then_join_it(
    api, session, agent, filed, app
):
    request_id, token = filed
    req = session.get(ConsentRequest, request_id)
    claim_request(session, req, Actor(ActorKind.agent, agent.id), now_utc())
    session.commit()
    late = _send(api, token, request_id, ("form.png", png()))
    assert late.status_code == 422
    assert "until support starts reviewing it" in late.json["errors"][0]["message"]

    ask_customer(
        session, req, "Could you send a screenshot of the sign-up form?",
        Actor(ActorKind.agent, agent.id), now_utc(), base_url="http://localhost",
    )  # fmt: skip
    session.commit()
    asked = _send(api, token, request_id, ("form.png", png()))
    assert asked.status_code == 422  # answer first: the files join the answer
    answered = api.post(
        f"/api/v1/requests/{request_id}/answer",
        token,
        json={"answer": "Here is the screenshot of the form they used."},
    )
    assert answered.status_code == 200, answered.json
    response = _send(api, token, request_id, ("form.png", png()))
    assert response.status_code == 201
    assert [i["came_with"] for i in response.json["items"]] == ["answer"]


def test_another_account_staff_and_read_tokens_cannot_attach(
    api, session, agent, customer, other_customer, make_token, filed
):
    request_id, token = filed
    stranger = make_token(other_customer)
    assert _send(api, stranger, request_id, ("form.png", png())).status_code == 404
    assert api.get(f"/api/v1/requests/{request_id}/files", stranger).status_code == 404
    assert _send(api, make_token(agent), request_id, ("form.png", png())).status_code == 403
    reader = make_token(customer, scope="read")
    assert _send(api, reader, request_id, ("form.png", png())).status_code == 403
    kept = _send(api, token, request_id, ("form.png", png())).json["items"][0]["id"]
    assert api.get(f"/api/v1/requests/{request_id}/files/{kept}", stranger).status_code == 404
    # A file id of one request read through another request's path is a 404 too.
    other = _file(api, token).json["id"]
    assert api.get(f"/api/v1/requests/{other}/files/{kept}", token).status_code == 404
