"""Running an import: statuses through the rule book, matching, skips, tags, restarts."""

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from requests_queue.blobs import BlobStore, delete_blob
from requests_queue.contacts import ContactData, update_contact
from requests_queue.errors import ValidationError
from requests_queue.imports import (
    STALE_AFTER,
    Target,
    inspect_file,
    resume_stale_imports,
    run_import,
    start_import,
)
from requests_queue.models import (
    Blob,
    BlobChunk,
    Contact,
    EmailAddress,
    EmailField,
    ImportBatch,
    ImportRowError,
    ImportState,
    SkipReason,
    StatusEvent,
    Tag,
)
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from tests.conftest import NOW
from tests.stored_files import stored

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"
S = EmailStatus


def _address(session, address: str) -> EmailAddress:
    return session.scalar(sa.select(EmailAddress).where(EmailAddress.address == address))


def _events(session, address: str) -> list[StatusEvent]:
    row = _address(session, address)
    return list(session.scalars(sa.select(StatusEvent).where(StatusEvent.address_id == row.id)))


def _count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(
    ("permission", "status"), [(True, S.single_opt_in), (False, S.non_marketable)]
)
def test_new_addresses_get_the_status_the_answer_allows_with_one_event_each(
    do_import, session, customer, permission, status
):
    batch = do_import(FIXTURES / "keap_export.csv", permission=permission)
    assert (batch.state, batch.created_count, batch.updated_count) == (ImportState.finished, 2, 0)
    for address in ("ada@example.com", "ada.work@example.net", "ben@example.org"):
        assert _address(session, address).status is status
        (event,) = _events(session, address)
        assert (event.from_status, event.to_status) == (None, status)
        assert (event.actor_kind, event.actor_user_id) == (ActorKind.customer, customer.id)
        assert event.import_batch_id == batch.id and event.created_at == NOW


def test_the_answer_user_and_time_are_kept_on_the_batch(do_import, customer):
    batch = do_import(FIXTURES / "keap_export.csv", permission=False)
    assert batch.permission_confirmed is False
    assert batch.user_id == customer.id and batch.created_at == NOW
    assert "prior permission to email these contacts" in batch.permission_statement


def test_created_contacts_carry_their_fields_batch_and_lower_cased_name_keys(do_import, session):
    batch = do_import(FIXTURES / "keap_export.csv")
    ada = _address(session, "ada@example.com").contact
    assert (ada.first_name, ada.last_name, ada.company, ada.phone) == (
        "Ada", "Lovelace", "Analytical", "+44 1234",
    )  # fmt: skip
    assert (ada.first_name_key, ada.last_name_key) == ("ada", "lovelace")
    assert ada.import_batch_id == batch.id
    assert ada.address_in(EmailField.email2).address == "ada.work@example.net"
    assert sorted(t.name for t in ada.tags) == ["Newsletter", "VIP"]


@pytest.mark.parametrize(
    "name",
    [
        "utf8_comma_lf.csv",
        "utf8_bom_semicolon_crlf.csv",
        "utf16le_bom_tab.tsv",
        "utf16be_bom_comma.csv",
        "windows1252_semicolon.csv",
    ],
)
def test_every_encoding_imports_the_same_contacts(do_import, session, name):
    batch = do_import(FIXTURES / name)
    assert (batch.created_count, batch.skipped_count) == (3, 0)
    zoe = _address(session, "zoe@example.com").contact
    assert (zoe.first_name, zoe.last_name, zoe.company) == ("Zoë", "Müller", "Café Crème")
    assert zoe.last_name_key == "müller"
    assert _address(session, "ada@example.com") is not None  # trimmed and lower-cased


@pytest.mark.parametrize(
    "status",
    [S.opted_out_by_user, S.opted_out_by_recipient, S.hard_bounce, S.spam_complaint,
     S.non_marketable, S.double_opt_in],
)  # fmt: skip
def test_reimport_with_permission_never_changes_an_existing_status(
    do_import, session, customer, make_contact, status
):
    contact = make_contact(customer, first_name="Old", email="ada@example.com")
    address = contact.address_in(EmailField.email)
    walk = {
        S.opted_out_by_user: [(S.opted_out_by_user, Actor(ActorKind.customer, customer.id))],
        S.opted_out_by_recipient: [(S.opted_out_by_recipient, Actor(ActorKind.recipient))],
        S.hard_bounce: [(S.hard_bounce, Actor(ActorKind.system))],
        S.spam_complaint: [(S.spam_complaint, Actor(ActorKind.system))],
        S.double_opt_in: [(S.opted_out_by_recipient, Actor(ActorKind.recipient)),
                          (S.double_opt_in, Actor(ActorKind.recipient))],
    }.get(status, [])  # fmt: skip
    for to, actor in walk:
        change_status(session, address, to, actor, NOW)
    session.commit()
    events_before = len(_events(session, "ada@example.com"))

    batch = do_import("Email,First Name\n  ADA@Example.COM ,Ada\n", permission=True)

    assert (batch.created_count, batch.updated_count) == (0, 1)
    assert _address(session, "ada@example.com").status is status
    assert len(_events(session, "ada@example.com")) == events_before
    assert _address(session, "ada@example.com").contact.first_name == "Ada"


def test_empty_cells_do_not_erase_what_a_matched_contact_has(do_import, session, customer,
                                                              make_contact):  # fmt: skip
    make_contact(customer, first_name="Ada", last_name="Lovelace", email="ada@example.com")
    do_import("Email,First Name,Last Name\nada@example.com,,Byron\n")
    contact = _address(session, "ada@example.com").contact
    assert (contact.first_name, contact.last_name, contact.last_name_key) == (
        "Ada", "Byron", "byron",
    )  # fmt: skip


def test_importing_the_same_file_again_creates_no_duplicates(do_import, session):
    first = do_import(FIXTURES / "keap_export.csv")
    second = do_import(FIXTURES / "keap_export.csv", permission=False)
    assert (first.created_count, second.created_count, second.updated_count) == (2, 0, 2)
    assert _count(session, Contact) == 2 and _count(session, EmailAddress) == 3
    assert _address(session, "ada@example.com").status is S.single_opt_in


def test_skipped_rows_are_recorded_with_line_and_reason(do_import, session):
    batch = do_import(FIXTURES / "row_problems.csv")
    assert (batch.created_count, batch.updated_count, batch.skipped_count) == (2, 0, 6)
    assert batch.rows_read == 8  # the blank line is not a row
    errors = session.scalars(
        sa.select(ImportRowError).where(ImportRowError.batch_id == batch.id)
        .order_by(ImportRowError.line)
    ).all()  # fmt: skip
    assert [(e.line, e.reason) for e in errors] == [
        (3, SkipReason.invalid_address),
        (4, SkipReason.no_address),
        (5, SkipReason.duplicate),
        (6, SkipReason.too_long),
        (7, SkipReason.invalid_address),
        (8, SkipReason.invalid_address),
    ]
    assert errors[2].detail == "same address as line 2"
    assert errors[5].detail.startswith("Email 2:")
    assert errors[1].cells == ["", "", "No", "Address"]


def test_a_duplicate_in_a_later_chunk_is_still_found(do_import, session):
    text = "Email,First Name\na@example.com,A\nb@example.com,B\nc@example.com,C\nA@example.com,A2\n"
    batch = do_import(text, chunk_rows=2)
    assert (batch.created_count, batch.skipped_count) == (3, 1)
    error = session.scalar(sa.select(ImportRowError))
    assert (error.line, error.reason) == (5, SkipReason.duplicate)
    assert _address(session, "a@example.com").contact.first_name == "A"


def test_addresses_of_two_different_contacts_in_one_row_skip_it(
    do_import, session, customer, make_contact
):
    make_contact(customer, email="ada@example.com")
    make_contact(customer, email="ben@example.com")
    batch = do_import("Email,Email 2\nada@example.com,ben@example.com\n")
    assert (batch.updated_count, batch.skipped_count) == (0, 1)
    assert session.scalar(sa.select(ImportRowError.reason)) is SkipReason.conflict


def test_a_new_address_joins_a_matched_contact_only_in_a_free_field(
    do_import, session, customer, make_contact
):
    make_contact(customer, email="ada@example.com")
    make_contact(customer, email="ben@example.com", email2="ben2@example.com")
    batch = do_import(
        "Email,Email 2\nada@example.com,ada2@example.com\nben@example.com,other@example.com\n",
        permission=False,
    )
    assert (batch.updated_count, batch.skipped_count) == (1, 1)
    ada2 = _address(session, "ada2@example.com")
    assert ada2.field is EmailField.email2 and ada2.status is S.non_marketable
    assert ada2.contact_id == _address(session, "ada@example.com").contact_id
    assert _address(session, "other@example.com") is None
    assert session.scalar(sa.select(ImportRowError.reason)) is SkipReason.conflict


def test_a_detached_address_is_reattached_keeping_its_status(
    do_import, session, customer, make_contact
):
    actor = Actor(ActorKind.customer, customer.id)
    contact = make_contact(customer, email="ada@example.com")
    change_status(session, contact.address_in(EmailField.email), S.opted_out_by_user, actor, NOW)
    update_contact(session, contact, ContactData(emails={}), actor, NOW)  # detaches it
    session.commit()
    assert _address(session, "ada@example.com").contact_id is None

    batch = do_import("Email,First Name\nada@example.com,Ada\n", permission=True)

    address = _address(session, "ada@example.com")
    assert batch.created_count == 1
    assert address.contact.first_name == "Ada" and address.field is EmailField.email
    assert address.status is S.opted_out_by_user


def test_the_batch_tag_goes_on_new_and_matched_contacts(do_import, session, customer,
                                                         make_contact):  # fmt: skip
    make_contact(customer, email="ada@example.com", tags=("Old",))
    do_import("Email\nada@example.com\nben@example.com\n", tag="Spring fair")
    tag = session.scalar(sa.select(Tag).where(Tag.name == "Spring fair"))
    for address in ("ada@example.com", "ben@example.com"):
        assert tag in _address(session, address).contact.tags
    assert {t.name for t in _address(session, "ada@example.com").contact.tags} == {
        "Old", "Spring fair",
    }  # fmt: skip


def _finished_with_seven(session, batch_id: int, attempts: int) -> ImportBatch:
    """The seven-row batch finished, each row imported once, after `attempts` runs."""
    session.expire_all()
    batch = session.get(ImportBatch, batch_id)
    assert (batch.state, batch.rows_read, batch.created_count, batch.attempts) == (
        ImportState.finished, 7, 7, attempts,
    )  # fmt: skip
    assert _count(session, Contact) == 7 and _count(session, StatusEvent) == 7
    return batch


def test_a_restart_halfway_resumes_after_the_last_committed_chunk(do_import, db, session):
    rows = "".join(f"p{i}@example.com,P{i}\n" for i in range(7))
    batch = do_import("Email,Name\n" + rows, chunk_rows=2, stop_after_chunks=2)
    assert (batch.state, batch.rows_read, batch.created_count) == (ImportState.running, 4, 4)

    # Too early: the run might still be alive.
    assert resume_stale_imports(session, NOW + STALE_AFTER / 2) == []
    later = NOW + STALE_AFTER + timedelta(seconds=1)
    assert resume_stale_imports(session, later) == [(batch.id, ImportState.finished)]

    batch = _finished_with_seven(session, batch.id, attempts=2)
    # The upload is not kept after the run.
    assert batch.file_blob_id is None and _count(session, Blob) == _count(session, BlobChunk) == 0


def test_a_run_asked_to_stop_hands_its_batch_back_after_the_chunk_under_way(do_import, db, session):
    rows = "".join(f"p{i}@example.com,P{i}\n" for i in range(7))
    asked = []

    def should_stop():  # the scheduler's SIGTERM arrives during the first chunk
        asked.append(True)
        return len(asked) > 1

    batch = do_import("Email,Name\n" + rows, chunk_rows=2, should_stop=should_stop)
    assert len(asked) == 3  # before each chunk, then before handing back
    assert (batch.state, batch.rows_read, batch.created_count) == (ImportState.running, 2, 2)
    # Handed back: the next scheduler takes it at once, not after STALE_AFTER, and the stop
    # is not counted as one of the batch's MAX_ATTEMPTS.
    assert batch.attempts == 0
    assert batch.heartbeat_at < NOW - STALE_AFTER
    # A job told to stop starts no batch at all.
    assert resume_stale_imports(session, NOW, should_stop=lambda: True) == []
    assert resume_stale_imports(session, NOW) == [(batch.id, ImportState.finished)]
    _finished_with_seven(session, batch.id, attempts=1)


def test_a_run_taken_over_hands_back_nothing(do_import, db, session):
    rows = "".join(f"p{i}@example.com\n" for i in range(4))
    taken_over = []

    def should_stop():  # meanwhile another run took the batch (this one was silent too long)
        if not taken_over:
            session.execute(sa.update(ImportBatch).values(attempts=ImportBatch.attempts + 1))
            session.commit()
            taken_over.append(True)
        return True

    batch = do_import("Email\n" + rows, chunk_rows=2, should_stop=should_stop)
    assert taken_over
    # The other run's claim stands: this one's stop changed neither its attempt nor its beat.
    assert (batch.state, batch.attempts, batch.heartbeat_at) == (ImportState.running, 2, NOW)


def test_a_stale_batch_whose_file_is_gone_is_marked_failed_with_its_counts(do_import, session):
    batch = do_import("Email\na@example.com\nb@example.com\n", chunk_rows=1, stop_after_chunks=1)
    delete_blob(session, batch.file_blob_id)
    session.commit()
    later = NOW + STALE_AFTER * 2
    assert resume_stale_imports(session, later) == [(batch.id, ImportState.failed)]
    session.expire_all()
    batch = session.get(ImportBatch, batch.id)
    assert (batch.state, batch.created_count) == (ImportState.failed, 1)
    assert "no longer there" in batch.error


def test_a_batch_that_keeps_dying_is_given_up(do_import, db, session):
    batch = do_import("Email\na@example.com\nb@example.com\n", chunk_rows=1, stop_after_chunks=1)
    session.execute(sa.update(ImportBatch).values(attempts=3))
    session.commit()
    assert run_import(db.engine, batch.id, clock=lambda: NOW + STALE_AFTER * 2) is (
        ImportState.failed
    )
    session.expire_all()
    assert "gave up" in session.get(ImportBatch, batch.id).error


def test_an_unreadable_line_fails_the_batch_keeping_what_was_saved(do_import, session):
    rows = "".join(f"p{i}@example.com,ok\n" for i in range(8))
    # An unclosed quote: its cell takes in the lines after it, past any cell's size limit.
    runaway = ("x" * 999 + "\n") * 200
    batch = do_import(f'Email,Note\n{rows}b@example.com,"{runaway}', chunk_rows=4)
    assert (batch.state, batch.created_count) == (ImportState.failed, 8)
    assert "could not be read past line 141" in batch.error


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({0: Target.first_name, 1: Target.ignore}, "at least one column"),
        ({0: Target.email, 1: Target.email}, "chosen for two columns"),
    ],
)
def test_start_import_refuses_a_mapping_without_one_email_column(
    session, customer, tmp_path, mapping, message
):
    upload = tmp_path / "u.csv"
    upload.write_text("Email,Other\na@example.com,b@example.com\n")
    fmt = inspect_file(upload)
    with pytest.raises(ValidationError) as refused:
        start_import(session, customer.account_id, Actor(ActorKind.customer, customer.id), fmt,
                     stored(session, upload, customer.account_id), "u.csv", mapping, True, "",
                     NOW)  # fmt: skip
    assert message in refused.value.reason
    session.rollback()
    assert _count(session, ImportBatch) == 0 and upload.exists()


def test_only_a_customer_starts_an_import(session, customer, agent, tmp_path):
    upload = tmp_path / "u.csv"
    upload.write_text("Email\na@example.com\n")
    fmt = inspect_file(upload)
    with pytest.raises(ValidationError):
        start_import(session, customer.account_id, Actor(ActorKind.agent, agent.id), fmt,
                     stored(session, upload, customer.account_id), "u.csv", fmt.mapping, True, "",
                     NOW)  # fmt: skip


def test_an_import_reads_its_file_from_a_shared_directory_and_removes_it_after(
    db, session, customer, tmp_path
):
    shared = BlobStore.from_setting(f"directory:{tmp_path / 'shared'}")
    upload = tmp_path / "u.csv"
    upload.write_text("Email\n" + "".join(f"p{i}@example.com\n" for i in range(5)))
    fmt = inspect_file(upload)
    blob_id = stored(session, upload, customer.account_id, shared)
    assert _count(session, BlobChunk) == 0  # the bytes went to the directory, not the database
    assert [p.name for p in (tmp_path / "shared").iterdir()] == [
        Path(session.get(Blob, blob_id).path).name
    ]
    batch = start_import(session, customer.account_id, Actor(ActorKind.customer, customer.id),
                         fmt, blob_id, "u.csv", fmt.mapping, True, "", NOW)  # fmt: skip
    session.commit()
    assert run_import(db.engine, batch.id, clock=lambda: NOW, chunk_rows=2) is ImportState.finished
    session.expire_all()
    assert session.get(ImportBatch, batch.id).created_count == 5
    assert list((tmp_path / "shared").iterdir()) == [] and _count(session, Blob) == 0
