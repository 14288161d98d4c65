"""Specs for evidence files and the storage under them: types judged from the content, limits,
files kept whole with their checksum, in the database or a shared directory."""

import hashlib
import io

import pytest
import sqlalchemy as sa

from requests_queue.blobs import BlobStore, BlobTooLarge, open_blob
from requests_queue.errors import NotFound, ValidationError
from requests_queue.models import BlobChunk, RequestEventKind
from requests_queue.requests.attachments import (
    FileLimits,
    attach_files,
    check_files,
    request_attachments,
    sniff,
)
from requests_queue.requests.lifecycle import answer_question, ask_customer, claim_request
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of
from tests.evidence_samples import CSV_EXPORT, HTML_AS_CSV, jpeg, pdf, png

LIMITS = FileLimits(max_files=3, max_bytes=64 * 1024)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (png(), "image/png"),
        (jpeg(), "image/jpeg"),
        (pdf(), "application/pdf"),
        (CSV_EXPORT, "text/csv"),
        ("email;name\nzoë@acme.example;Zoë\n".encode("cp1252"), "text/csv"),
        (png()[:-6], None),  # cut short: no IEND
        (png()[:40] + b"X" + png()[41:], None),  # a chunk whose checksum does not match
        (b"\xff\xd8\xff\xd9", None),  # a JPEG's start and end with no image between
        (b"%PDF-1.7\nno trailer\n", None),
        (HTML_AS_CSV, None),  # text, but markup a browser would run
        (b"PK\x03\x04" + b"\x00" * 40, None),  # a zip (docx, xlsx)
        (b"GIF89a" + b"\x00" * 40, None),
        (b"", None),
    ],
)
def test_the_type_is_judged_from_the_content(content, kind):
    found = sniff(io.BytesIO(content))
    assert (found.content_type if found else None) == kind


def _one(name, content, limits=LIMITS):
    return check_files([(name, io.BytesIO(content))], limits)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("a.png", png())] * 4, "attach at most 3 files at a time; you chose 4"),
        ([("big.csv", CSV_EXPORT * 2000)], "“big.csv” is 127 KB; each file can be at most 64 KB"),
        ([("empty.pdf", b"")], "“empty.pdf” is empty"),
        (
            [("C:\\Users\\me\\form.png", b"MZ" + b"\x00" * 60)],
            "“form.png” is not a PNG, JPEG, PDF or CSV file (judged from its content, not its "
            "name). Save it as one of these and attach it again",
        ),
    ],
)
def test_refusals_name_the_file_and_the_rule(files, message):
    with pytest.raises(ValidationError) as refused:
        check_files([(name, io.BytesIO(content)) for name, content in files], LIMITS)
    assert (refused.value.field, refused.value.reason) == ("files", message)


@pytest.mark.parametrize(
    ("name", "content", "kept_as"),
    [
        ("signup.PNG", png(), "signup.PNG"),
        ("photo.jpeg", jpeg(), "photo.jpeg"),
        ("page.html", png(), "page.html.png"),  # saved, it opens as what it is
        ("records", CSV_EXPORT, "records.csv"),
        ("../../etc/terms.pdf", pdf(), "terms.pdf"),
        ("bad\x00\x1bname.csv", CSV_EXPORT, "badname.csv"),
    ],
)
def test_a_file_keeps_a_safe_name_ending_as_its_type(name, content, kept_as):
    assert [f.name for f in _one(name, content)] == [kept_as]


def test_attached_files_are_kept_whole_and_listed_for_the_export(
    db, session, customer, file_opt_in
):
    req = file_opt_in(customer)
    image, document = png(), pdf()
    checked = check_files([("form.png", io.BytesIO(image)), ("log.pdf", io.BytesIO(document))],
                          LIMITS)  # fmt: skip
    attach_files(session, BlobStore(), req, RequestEventKind.filed, checked, actor_of(customer),
                 LIMITS, NOW)  # fmt: skip
    session.commit()
    listed = request_attachments(session, req.id)
    assert [(a.name, a.content_type, a.size, a.sha256, a.uploaded_by_email, a.came_with)
            for a in listed] == [
        ("form.png", "image/png", len(image), hashlib.sha256(image).hexdigest(), customer.email,
         "filed"),
        ("log.pdf", "application/pdf", len(document), hashlib.sha256(document).hexdigest(),
         customer.email, "filed"),
    ]  # fmt: skip
    assert all(a.uploaded_at == NOW for a in listed)
    from requests_queue.models import RequestAttachment

    blob_id = session.get(RequestAttachment, listed[1].id).blob_id
    with open_blob(db.engine, blob_id) as f:
        assert f.read() == document


def test_files_sent_with_an_answer_belong_to_that_answer(session, customer, agent, file_opt_in):
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    ask_customer(session, req, "Which form?", actor_of(agent), NOW, base_url=REQUEST_BASE_URL)
    answer_question(session, req, "This one.", actor_of(customer), NOW,
                    base_url=REQUEST_BASE_URL)  # fmt: skip
    attach_files(session, BlobStore(), req, RequestEventKind.answer, _one("x.csv", CSV_EXPORT),
                 actor_of(customer), LIMITS, NOW)  # fmt: skip
    session.commit()
    assert [a.came_with for a in request_attachments(session, req.id)] == ["answer"]


def test_a_customer_of_another_account_attaches_nothing(
    session, customer, other_customer, file_opt_in
):
    req = file_opt_in(customer)
    with pytest.raises(NotFound):
        attach_files(session, BlobStore(), req, RequestEventKind.filed, _one("a.png", png()),
                     actor_of(other_customer), LIMITS, NOW)  # fmt: skip


def test_a_large_file_is_stored_and_read_back_a_chunk_at_a_time(db, session, customer):
    content = bytes(range(256)) * (14 * 1024)  # 3.5 MiB
    blob = BlobStore().put(session, io.BytesIO(content), account_id=customer.account_id, now=NOW)
    session.commit()
    chunks = session.scalars(
        sa.select(sa.func.length(BlobChunk.data)).where(BlobChunk.blob_id == blob.id)
    ).all()
    assert chunks == [1 << 20] * 3 + [len(content) - 3 * (1 << 20)]
    assert (blob.size, blob.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    with open_blob(db.engine, blob.id) as f:
        assert f.read(10) == content[:10] and f.read() == content[10:]


def test_a_shared_directory_holds_the_bytes_when_configured(db, session, customer, tmp_path):
    shared = tmp_path / "shared"
    store = BlobStore.from_setting(f"directory:{shared}")
    blob = store.put(session, io.BytesIO(pdf()), account_id=customer.account_id, now=NOW)
    session.commit()
    assert [str(p) for p in shared.iterdir()] == [blob.path]
    assert session.scalar(sa.select(sa.func.count()).select_from(BlobChunk)) == 0
    with open_blob(db.engine, blob.id) as f:
        assert f.read() == pdf()


def test_a_file_over_the_limit_is_refused_and_leaves_no_partial_file(session, customer, tmp_path):
    store = BlobStore(tmp_path / "shared")
    with pytest.raises(BlobTooLarge):
        store.put(session, io.BytesIO(b"x" * 100), account_id=customer.account_id, now=NOW,
                  limit=99)  # fmt: skip
    assert list((tmp_path / "shared").iterdir()) == []


@pytest.mark.parametrize(
    "setting", ["directory:relative/path", "s3://bucket", "directory:", "files:/srv/x"]
)
def test_an_unusable_storage_setting_is_refused(setting):
    with pytest.raises(ValueError, match="UPLOAD_STORAGE"):
        BlobStore.from_setting(setting)
