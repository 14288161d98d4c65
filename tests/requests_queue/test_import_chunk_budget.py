"""A chunk's size follows its weight. A wide file, or one of long cells, is read in fewer rows a
chunk, so an import's memory stays bounded whatever the file's shape (issue 11: a background run
under 200 MB at any size); a narrow file keeps its row limit; and no row is lost or read twice
at the edges of the shorter chunks, through a restart too."""

from datetime import timedelta

import sqlalchemy as sa

from requests_queue.imports import STALE_AFTER, inspect_file, resume_stale_imports
from requests_queue.imports.reading import RowReader
from requests_queue.imports.rows import CHUNK_BYTES, CHUNK_CELLS, RowPlan, parse_chunk
from requests_queue.models import Contact, EmailAddress, ImportBatch, ImportState, StatusEvent
from tests.conftest import NOW

# Ten cells a row: seven mapped (names, company, phone, three addresses), three not.
WIDE = "First Name,Last Name,Company,Phone,Email,Email 2,Email 3,Notes,Source,Owner\n"


def _wide(rows: int) -> str:
    return WIDE + "".join(
        f"F{i},L{i},Co {i},+1 555 {i:07d},w{i}@example.com,x{i}@example.org,"
        f"y{i}@example.net,note {i},fair,desk\n"
        for i in range(rows)
    )


def _chunks(path, limit: int) -> list:
    """The file's chunks as an import reads them, `limit` rows at most each."""
    fmt = inspect_file(path)
    plan = RowPlan.of(fmt.mapping)
    chunks = []
    with RowReader(path, fmt.encoding, fmt.delimiter) as reader:
        next(iter(reader))  # the header
        while (chunk := parse_chunk(reader, plan, limit)) is not None:
            chunks.append(chunk)
    return chunks


def _every_row_once(chunks, rows: int) -> bool:
    """The chunks hold each data line (2 … rows + 1) once, in order."""
    return [line for chunk in chunks for line in chunk.lines] == list(range(2, rows + 2))


def test_a_wide_file_is_read_in_chunks_of_a_bounded_number_of_cells(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(_wide(30_000), encoding="utf-8")
    chunks = _chunks(path, 50_000)
    assert len(chunks) == 3  # 10,000 rows of ten cells each, not 30,000 in one
    for chunk in chunks[:-1]:
        # Full, and past the budget by at most the last slice read (an eighth of it).
        assert CHUNK_CELLS <= chunk.size * 10 <= CHUNK_CELLS * 9 // 8
    assert _every_row_once(chunks, 30_000)


def test_a_narrow_file_keeps_its_row_limit(tmp_path):
    path = tmp_path / "narrow.csv"
    path.write_text(
        "Email,Name\n" + "".join(f"p{i}@example.com,P{i}\n" for i in range(5_000)),
        encoding="utf-8",
    )
    chunks = _chunks(path, 2_000)
    assert [c.size for c in chunks] == [2_000, 2_000, 1_000]
    assert _every_row_once(chunks, 5_000)


def test_a_file_of_long_cells_is_read_in_chunks_of_bounded_bytes(tmp_path):
    note = "n" * 20_000  # an unmapped column: read, kept for the skipped rows' report
    path = tmp_path / "notes.csv"
    path.write_text(
        "Email,Notes\n" + "".join(f"p{i}@example.com,{note}\n" for i in range(1_000)),
        encoding="utf-8",
    )
    chunks = _chunks(path, 50_000)
    assert len(chunks) == 3  # about 20 MB: 8 MB a chunk, not all of it in one
    ends = [len("Email,Notes\n")] + [c.bytes_read for c in chunks]
    buffered = 64 * 1024  # the reader is ahead of its last record by a buffer at most
    for start, end in zip(ends[:-2], ends[1:-1], strict=True):
        assert CHUNK_BYTES <= end - start <= CHUNK_BYTES * 9 // 8 + buffered
    assert _every_row_once(chunks, 1_000)


def _count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_wide_file_imports_every_row_once_through_a_restart(do_import, session):
    batch = do_import(_wide(12_000), stop_after_chunks=1)
    # The first chunk ended at its budget (about 10,000 rows of ten cells), not at 50,000 rows.
    first = batch.rows_read
    assert CHUNK_CELLS // 10 <= first <= CHUNK_CELLS * 9 // 8 // 10
    assert (batch.state, batch.created_count) == (ImportState.running, first)

    later = NOW + STALE_AFTER + timedelta(seconds=1)
    assert resume_stale_imports(session, later) == [(batch.id, ImportState.finished)]
    session.expire_all()
    batch = session.get(ImportBatch, batch.id)
    assert (batch.rows_read, batch.created_count, batch.skipped_count) == (12_000, 12_000, 0)
    assert _count(session, Contact) == 12_000
    assert _count(session, EmailAddress) == _count(session, StatusEvent) == 36_000
