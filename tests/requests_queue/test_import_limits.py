"""A small file cannot take the importer down: too many columns, overlong lines, bounded reads."""

import time
import tracemalloc

import pytest
import sqlalchemy as sa

from requests_queue.imports import FileRefused, inspect_file, run_import, start_import
from requests_queue.imports.reading import (
    MAX_COLUMNS,
    MAX_LINE_CHARS,
    SAMPLE_CELL_CHARS,
    RowReader,
)
from requests_queue.models import (
    EmailAddress,
    ImportBatch,
    ImportRowError,
    ImportState,
    SkipReason,
)
from requests_queue.statuses import Actor, ActorKind
from tests.conftest import NOW
from tests.stored_files import stored

LONG = "x" * (MAX_LINE_CHARS + 10)


def _write(tmp_path, text: str, name: str = "upload.csv", newline: str = "\n"):
    path = tmp_path / name
    path.write_text(text.replace("\n", newline), encoding="utf-8", newline="")
    return path


def _refusal(path) -> FileRefused:
    with pytest.raises(FileRefused) as refused:
        inspect_file(path)
    return refused.value


def test_a_header_of_30000_columns_is_refused_at_once_saying_why(tmp_path):
    header = "Email," + ",".join(f"c{i}" for i in range(29_999))
    path = _write(tmp_path, f"{header}\na@example.com{',' * 29_999}\n")
    started = time.perf_counter()
    refused = _refusal(path)
    assert time.perf_counter() - started < 1
    assert refused.kind == "too_many_columns"
    assert "at most 200 can be imported" in refused.reason
    assert "at least 10," in refused.reason  # what the first 64 KiB of the header names


def test_a_header_read_whole_names_its_exact_width(tmp_path):
    header = ",".join(["Email", *(f"c{i}" for i in range(MAX_COLUMNS))])
    refused = _refusal(_write(tmp_path, f"{header}\na@example.com\n"))
    assert "The first row names 201 columns; at most 200" in refused.reason


def test_200_columns_are_accepted_and_each_sample_value_is_cut_short(tmp_path):
    header = ",".join(["Email", *(f"Column {i}" for i in range(1, MAX_COLUMNS))])
    row = ",".join(["a@example.com", *("y" * 250 for _ in range(1, MAX_COLUMNS)), "extra"])
    fmt = inspect_file(_write(tmp_path, f"{header}\n{row}\n"))
    assert len(fmt.header) == MAX_COLUMNS
    assert len(fmt.sample[0]) == MAX_COLUMNS  # a cell past the header is not shown
    assert max(map(len, fmt.sample[0])) == SAMPLE_CELL_CHARS


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"Email,{LONG}\na@example.com,x\n", "The first row has more than 65,536 characters"),
        (f"Email,Note\na@example.com,{LONG}\n", "Line 2 has more than 65,536 characters"),
        (f"Email,Note\na@example.com,x\nb@example.com,{'y' * (1 << 20)}\n", "Line 3 has more"),
    ],
)
def test_a_line_longer_than_64_kib_among_the_first_rows_is_refused(tmp_path, text, words):
    refused = _refusal(_write(tmp_path, text))
    assert refused.kind == "line_too_long"
    assert words in refused.reason


def test_reading_a_line_of_20_mb_holds_a_bounded_amount_of_memory(tmp_path):
    path = _write(tmp_path, f"Email,Note\na@example.com,{'z' * (20 << 20)}\nb@example.com,ok\n")
    tracemalloc.start()
    try:
        with RowReader(path, "utf-8", ",") as reader:
            rows = [cells for _, cells in reader]
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == [["Email", "Note"], ["b@example.com", "ok"]]
    assert reader.cut_lines == [2]
    assert peak < 2 << 20  # a few buffers, never the line


@pytest.fixture
def run_file(db, session, customer, tmp_path):
    """Inspect, start and run an import of CSV text as `customer`; return the finished batch."""

    def run(text: str, newline: str = "\n", **run_options) -> ImportBatch:
        path = _write(tmp_path, text, newline=newline)
        fmt = inspect_file(path)
        actor = Actor(ActorKind.customer, customer.id)
        batch = start_import(
            session, customer.account_id, actor, fmt, stored(session, path, customer.account_id),
            "f.csv", fmt.mapping, True, "", NOW,
        )  # fmt: skip
        session.commit()
        run_import(db.engine, batch.id, clock=lambda: NOW, **run_options)
        session.expire_all()
        return session.get(ImportBatch, batch.id)

    return run


def _skips(session, batch) -> list[tuple[int, SkipReason, str, list]]:
    rows = session.scalars(
        sa.select(ImportRowError).where(ImportRowError.batch_id == batch.id).order_by("line")
    )
    return [(r.line, r.reason, r.detail, r.cells) for r in rows]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("chunk_rows", [3, 50_000])
def test_a_long_line_past_the_first_rows_is_skipped_with_the_reason(
    run_file, session, newline, chunk_rows
):
    rows = [f"p{i}@example.com,ok" for i in range(8)]
    text = "\n".join(["Email,Note", *rows, f"long@example.com,{LONG}", "not-an-address,x", ""])
    batch = run_file(text, newline, chunk_rows=chunk_rows)
    assert (batch.state, batch.created_count, batch.skipped_count) == (ImportState.finished, 8, 2)
    too_long, invalid = _skips(session, batch)
    assert too_long == (10, SkipReason.too_long, "line 10 has more than 65,536 characters", [])
    assert invalid[:2] == (11, SkipReason.invalid_address)  # the lines after it keep their number
    assert not session.scalar(sa.select(EmailAddress.id).where(EmailAddress.address.like("long@%")))


def test_a_quoted_cell_holding_a_long_line_skips_its_whole_row(run_file, session):
    rows = "".join(f"p{i}@example.com,ok\n" for i in range(6))
    text = f'Email,Note\n{rows}q@example.com,"first line\n{LONG}\nlast line"\nr@example.com,ok\n'
    batch = run_file(text)
    assert (batch.state, batch.created_count, batch.skipped_count) == (ImportState.finished, 7, 1)
    [(line, reason, detail, _)] = _skips(session, batch)
    assert (line, reason) == (8, SkipReason.too_long)  # where the row starts
    assert detail == "line 9 has more than 65,536 characters"
