"""Rows as real files hold them (ragged, multi-line, blank, odd characters) and the matching
rules that decide which contact a row is, in one chunk and across chunks."""

import itertools

import pytest
import sqlalchemy as sa

from requests_queue.imports import inspect_file, run_import, start_import
from requests_queue.imports.reading import RowReader
from requests_queue.imports.rows import RowPlan, parse_chunk
from requests_queue.models import Contact, EmailAddress, EmailField, ImportBatch, ImportRowError
from requests_queue.models import SkipReason as R
from requests_queue.statuses import Actor, ActorKind
from tests.conftest import NOW
from tests.stored_files import stored

_names = itertools.count()


@pytest.fixture
def do_import(db, session, customer, tmp_path):
    """Import CSV text as `customer`; return the batch once the run ends."""

    def run(text, **run_options):
        upload = tmp_path / f"upload-{next(_names)}.csv"
        upload.write_text(text, encoding="utf-8")
        fmt = inspect_file(upload)
        batch = start_import(
            session, customer.account_id, Actor(ActorKind.customer, customer.id), fmt,
            stored(session, upload, customer.account_id), "contacts.csv", fmt.mapping, True, "",
            NOW,
        )  # fmt: skip
        session.commit()
        run_import(db.engine, batch.id, clock=lambda: NOW, **run_options)
        session.expire_all()
        return session.get(ImportBatch, batch.id)

    return run


def _contact(session, address: str) -> Contact:
    return session.scalar(
        sa.select(Contact).join(EmailAddress).where(EmailAddress.address == address)
    )


def _skips(session, batch) -> list[tuple[int, R, str]]:
    rows = session.execute(
        sa.select(ImportRowError.line, ImportRowError.reason, ImportRowError.detail)
        .where(ImportRowError.batch_id == batch.id)
        .order_by(ImportRowError.line)
    )
    return [tuple(r) for r in rows]


def test_short_and_long_rows_import_the_cells_they_have(do_import, session):
    batch = do_import("Email,First Name,Last Name\nada@example.com\nben@example.com,Ben,Ng,x,y\n")
    assert (batch.created_count, batch.skipped_count) == (2, 0)
    assert _contact(session, "ada@example.com").full_name == "—"
    assert _contact(session, "ben@example.com").full_name == "Ben Ng"


def test_a_skipped_row_after_multi_line_cells_names_the_line_it_starts_on(do_import, session):
    text = (
        'Email,Note\nada@example.com,"two\nlines"\nnot-an-address,x\n'
        '"ben@example.com","a\nb\nc"\n\nbad@,y\n'
    )
    batch = do_import(text)
    assert (batch.created_count, batch.rows_read) == (2, 4)
    assert [(line, reason) for line, reason, _ in _skips(session, batch)] == [
        (4, R.invalid_address),
        (9, R.invalid_address),
    ]


def test_blank_and_delimiter_only_lines_are_not_rows_even_filling_a_chunk(do_import, session):
    batch = do_import("Email,Name\n\n,,\n  \nada@example.com,Ada\n", chunk_rows=1)
    assert (batch.rows_read, batch.created_count, batch.skipped_count) == (1, 1, 0)
    assert batch.last_line == 5


def test_an_address_repeated_in_two_fields_of_a_row_is_kept_once(do_import, session):
    batch = do_import("Email,Email 2\nada@example.com, ADA@example.com\n")
    assert (batch.created_count, batch.skipped_count) == (1, 0)
    (address,) = session.scalars(sa.select(EmailAddress)).all()
    assert (address.address, address.field) == ("ada@example.com", EmailField.email)


@pytest.mark.parametrize(
    "again", ["di@bücher.example", " DI@BÜCHER.example", "di@xn--bcher-kva.example"]
)
def test_an_international_mailbox_repeated_in_a_row_is_kept_once(do_import, session, again):
    # Found by the rule-book property test: the repeat was compared before the canonical form.
    batch = do_import(f"Email,Email 2\ndi@bücher.example,{again}\n")
    assert (batch.error, batch.created_count, batch.skipped_count) == ("", 1, 0)
    (address,) = session.scalars(sa.select(EmailAddress)).all()
    assert (address.address, address.field) == ("di@xn--bcher-kva.example", EmailField.email)


@pytest.mark.parametrize("chunk_rows", [100, 1])
def test_two_rows_naming_one_existing_contact_update_it_once(
    do_import, session, customer, make_contact, chunk_rows
):
    make_contact(customer, email="ada@example.com", email2="ada.work@example.com")
    batch = do_import(
        "Email,First Name\nada@example.com,Ada\nada.work@example.com,Other\n",
        chunk_rows=chunk_rows,
    )
    assert (batch.updated_count, batch.skipped_count) == (1, 1)
    assert _skips(session, batch) == [
        (3, R.duplicate, "an earlier row of this file already imported this contact")
    ]
    assert _contact(session, "ada@example.com").first_name == "Ada"


@pytest.mark.parametrize(
    ("chunk_rows", "detail"),
    [
        (100, "same address as line 2"),  # found while reading the chunk
        (1, "an earlier row of this file already imported this contact"),  # found in SQL
    ],
)
def test_a_contact_the_file_created_is_not_created_or_matched_again(
    do_import, session, chunk_rows, detail
):
    text = "Email,Email 2\nada@example.com,ada.work@example.com\nada.work@example.com,\n"
    batch = do_import(text, chunk_rows=chunk_rows)
    assert (batch.created_count, batch.updated_count) == (1, 0)
    assert _skips(session, batch) == [(3, R.duplicate, detail)]
    assert session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1


def test_cells_with_tabs_backslashes_and_quotes_arrive_unchanged(do_import, session):
    text = 'Email,First Name,Last Name,Tags\nada@example.com,"A\\da","Love\tlace","a\\b, c\td"\n'
    do_import(text)
    ada = _contact(session, "ada@example.com")
    assert (ada.first_name, ada.last_name) == ("A\\da", "Love\tlace")
    assert (ada.first_name_key, ada.last_name_key) == ("a\\da", "love\tlace")
    assert sorted(t.name for t in ada.tags) == ["a\\b", "c\td"]


def test_name_keys_are_lower_case_whether_a_chunk_is_ascii_or_not(do_import, session):
    text = "Email,First Name,Last Name\nada@example.com,ADA,Byron\nzoe@example.com,ZOË,ÉMILE\n"
    do_import(text, chunk_rows=1)  # SQL lower-cases the first chunk, Python the second
    assert _contact(session, "ada@example.com").first_name_key == "ada"
    zoe = _contact(session, "zoe@example.com")
    assert (zoe.first_name_key, zoe.last_name_key) == ("zoë", "émile")


def test_a_chunk_reports_the_line_and_bytes_it_read_to(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('Email,Note\na@example.com,"x\ny"\nb@example.com,z\n', encoding="utf-8")
    plan = RowPlan.of({0: inspect_file(path).mapping[0]})
    with RowReader(path, "utf-8", ",") as reader:
        next(iter(reader))
        first = parse_chunk(reader, plan, 1)
        second = parse_chunk(reader, plan, 1)
        assert parse_chunk(reader, plan, 1) is None
    assert (first.lines, first.end_line, second.lines, second.end_line) == ([2], 3, [4], 4)
    assert second.bytes_read == path.stat().st_size
