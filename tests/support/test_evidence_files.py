"""Evidence files through the web: attached on filing and answers, shown to the agent (images
inline), downloaded safely, and never served to another account or to nobody."""

import io
import re

import pytest
import sqlalchemy as sa

from requests_queue.models import ConsentRequest, RequestAttachment, RequestState
from requests_queue.requests.lifecycle import ask_customer, claim_request
from tests.conftest import NOW, actor_of
from tests.evidence_samples import CSV_EXPORT, pdf, png
from tests.support.test_request_pages import GOOD

IMAGE, DOCUMENT = png(), pdf()


def _errors(response) -> list[str]:
    return re.findall(r'field-error" role="alert">([^<]*)<', response.get_data(as_text=True))


def _files(session) -> list[RequestAttachment]:
    session.expire_all()
    return session.scalars(sa.select(RequestAttachment).order_by(RequestAttachment.id)).all()


def _file_request(client, files):
    data = {**GOOD, "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/requests/new/opt-in?fields=email", data)


@pytest.fixture
def filed(client, session, customer, make_contact):
    """A request the customer filed through the form with a PNG and a PDF."""
    make_contact(customer, email="new@acme.example")
    client.login(customer.email)
    response = _file_request(client, [("signup form.png", IMAGE), ("consent log.pdf", DOCUMENT)])
    assert response.status_code == 302
    return session.scalars(sa.select(ConsentRequest)).one()


def test_files_attached_on_filing_are_kept_with_the_request(session, customer, filed):
    assert [(f.request_id, f.filename, f.content_type, f.size, f.uploaded_by_id)
            for f in _files(session)] == [
        (filed.id, "signup form.png", "image/png", len(IMAGE), customer.id),
        (filed.id, "consent log.pdf", "application/pdf", len(DOCUMENT), customer.id),
    ]  # fmt: skip


def test_a_file_that_is_not_an_accepted_type_is_refused_next_to_the_field(
    client, session, customer, make_contact
):
    make_contact(customer, email="new@acme.example")
    client.login(customer.email)
    response = _file_request(client, [("list.csv", b"PK\x03\x04" + b"\x00" * 100)])
    assert _errors(response) == [
        "“list.csv” is not a PNG, JPEG, PDF or CSV file (judged from its content, not its name). "
        "Save it as one of these and attach it again"
    ]
    assert 'id="files"' in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(ConsentRequest)) == 0
    assert _files(session) == []


def test_too_many_or_too_large_files_are_refused_with_the_configured_limits(
    app, client, session, customer, make_contact
):
    app.config.update(EVIDENCE_MAX_FILES=2, EVIDENCE_MAX_MB=300 / (1024 * 1024))
    make_contact(customer, email="new@acme.example")
    client.login(customer.email)
    page = client.get("/requests/new/opt-in?fields=email").get_data(as_text=True)
    assert "up to 2 files of 300 bytes each" in page
    many = _file_request(client, [("a.png", IMAGE)] * 3)
    assert _errors(many) == ["Attach at most 2 files at a time; you chose 3"]
    big = _file_request(client, [("big.pdf", DOCUMENT)])
    assert _errors(big) == [
        f"“big.pdf” is {len(DOCUMENT)} bytes; each file can be at most 300 bytes"
    ]
    assert _files(session) == []


def test_the_agent_sees_the_image_inline_and_downloads_the_pdf(client, session, agent, filed):
    image, document = _files(session)
    client.logout()
    client.login(agent.email)
    page = client.get(f"/desk/requests/{filed.id}").get_data(as_text=True)
    assert f'<img src="/desk/requests/{filed.id}/files/{image.id}"' in page
    assert f'href="/desk/requests/{filed.id}/files/{document.id}?download=1" download' in page

    shown = client.get(f"/desk/requests/{filed.id}/files/{image.id}")
    assert (shown.status_code, shown.mimetype, shown.data) == (200, "image/png", IMAGE)
    assert shown.headers["Content-Disposition"].startswith("inline")
    assert shown.headers["X-Content-Type-Options"] == "nosniff"

    saved = client.get(f"/desk/requests/{filed.id}/files/{document.id}")
    assert (saved.mimetype, saved.data) == ("application/pdf", DOCUMENT)
    assert saved.headers["Content-Disposition"].startswith("attachment")
    assert "consent%20log.pdf" in saved.headers["Content-Disposition"] or (
        "consent log.pdf" in saved.headers["Content-Disposition"]
    )
    assert saved.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in saved.headers["Cache-Control"]


def test_the_customer_sees_their_files_on_their_request(client, session, filed):
    image, document = _files(session)
    page = client.get(f"/requests/{filed.id}").get_data(as_text=True)
    assert f'<img src="/requests/{filed.id}/files/{image.id}"' in page
    assert "consent log.pdf" in page and "PDF document" in page
    assert client.get(f"/requests/{filed.id}/files/{document.id}").data == DOCUMENT


def test_another_account_or_nobody_gets_no_file(
    client, session, other_customer, make_contact, filed
):
    image, _ = _files(session)
    client.logout()
    assert client.get(f"/requests/{filed.id}/files/{image.id}").status_code == 302  # to login
    assert client.get(f"/desk/requests/{filed.id}/files/{image.id}").status_code == 302
    make_contact(other_customer, email="mine@globex.example")
    client.login(other_customer.email)
    assert client.get(f"/requests/{filed.id}/files/{image.id}").status_code == 404
    # Their own request's URL with the other account's file id: 404 as well.
    _file_request(client, [])
    own = session.scalars(
        sa.select(ConsentRequest).where(ConsentRequest.account_id == other_customer.account_id)
    ).one()
    assert client.get(f"/requests/{own.id}/files/{image.id}").status_code == 404
    assert client.get(f"/desk/requests/{filed.id}/files/{image.id}").status_code == 403


def test_files_sent_with_an_answer_are_listed_under_it(client, session, customer, agent, filed):
    claim_request(session, filed, actor_of(agent), NOW)
    ask_customer(session, filed, "Which form?", actor_of(agent), NOW, base_url="http://x")
    session.commit()
    answer = {"answer": "The export is attached.", "files": [(io.BytesIO(CSV_EXPORT), "x.csv")]}
    assert client.post(f"/requests/{filed.id}/answer", answer).status_code == 302
    session.expire_all()
    assert session.get(ConsentRequest, filed.id).state is RequestState.in_review
    csv_file = _files(session)[-1]
    assert (csv_file.filename, csv_file.content_type) == ("x.csv", "text/csv")
    assert csv_file.event_id is not None
    client.logout()
    client.login(agent.email)
    page = client.get(f"/desk/requests/{filed.id}").get_data(as_text=True)
    assert "sent with the answer of" in page
    download = client.get(f"/desk/requests/{filed.id}/files/{csv_file.id}")
    assert download.mimetype == "text/csv" and download.data == CSV_EXPORT
    assert download.headers["Content-Disposition"].startswith("attachment")
    # An image asked for as a download is saved, not shown.
    image = _files(session)[0]
    saved = client.get(f"/desk/requests/{filed.id}/files/{image.id}?download=1")
    assert saved.headers["Content-Disposition"].startswith("attachment")


def test_a_refused_answer_file_keeps_the_question_open(client, session, agent, filed):
    claim_request(session, filed, actor_of(agent), NOW)
    ask_customer(session, filed, "Which form?", actor_of(agent), NOW, base_url="http://x")
    session.commit()
    answer = {"answer": "Here.", "files": [(io.BytesIO(b"\x00\x01binary"), "a.png")]}
    response = client.post(f"/requests/{filed.id}/answer", answer)
    assert response.status_code == 400
    assert _errors(response)[0].startswith("“a.png” is not a PNG, JPEG, PDF or CSV file")
    session.expire_all()
    assert session.get(ConsentRequest, filed.id).state is RequestState.awaiting_customer


def test_links_in_answers_are_clickable_only_for_http_and_https(client, session, agent, filed):
    claim_request(session, filed, actor_of(agent), NOW)
    ask_customer(session, filed, "Which form?", actor_of(agent), NOW, base_url="http://x")
    session.commit()
    text = "See https://acme.example/join?a=1&b=2. Not javascript:alert(1) <b>nor this</b>"
    client.post(f"/requests/{filed.id}/answer", {"answer": text})
    for url in (f"/requests/{filed.id}", f"/desk/requests/{filed.id}"):
        if url.startswith("/desk"):
            client.logout()
            client.login(agent.email)
        page = client.get(url).get_data(as_text=True)
        assert (
            '<a href="https://acme.example/join?a=1&amp;b=2" target="_blank" '
            'rel="noopener noreferrer nofollow">'
        ) in page
        assert "javascript:alert(1)" in page and 'href="javascript:' not in page
        assert "&lt;b&gt;nor this&lt;/b&gt;" in page


def test_with_a_shared_directory_configured_the_files_are_kept_and_served_from_it(
    app, client, session, customer, make_contact, tmp_path
):
    shared = tmp_path / "shared"
    app.config["UPLOAD_STORAGE"] = f"directory:{shared}"
    make_contact(customer, email="new@acme.example")
    client.login(customer.email)
    assert _file_request(client, [("form.png", IMAGE)]).status_code == 302
    (image,) = _files(session)
    (kept,) = shared.iterdir()
    assert kept.read_bytes() == IMAGE
    with client.get(f"/requests/{image.request_id}/files/{image.id}") as served:
        assert served.data == IMAGE  # read from the directory; the file is closed after
