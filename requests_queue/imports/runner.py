"""Running an import batch: the file streamed in chunks, each committed with its progress.

A run claims its batch (queued, or running with a stale heartbeat), reads the stored file
from the line after the last committed chunk, and commits every chunk together with the
counts and the line it reached. If the process dies, nothing half-done is visible: the last
chunk rolls back and `resume_stale_imports` picks the batch up again from there. This is a
job, not an operation: it owns its transactions (one per chunk) on its own connection, which
a second thread uses to write one chunk while the first parses the next (see `_run`).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..blobs import BlobMissing, delete_blob, open_blob
from ..errors import DomainError
from ..heartbeat import Heartbeat
from ..logcontext import running
from ..models import ImportBatch, ImportRowError, ImportState, SkipReason, Tag
from ..now import now_utc
from ..planner_stats import analyze_after_bulk
from ..statuses import Actor, ActorKind, Cause, check_transition, status_for_permission
from .mapping import Target, mapping_from_json
from .reading import RowReader
from .rows import Chunk, RowPlan, parse_chunk
from .scratch_tables import create_stage, drop_stage
from .staging import Run, stage_chunk, write_chunk

log = logging.getLogger(__name__)

# Rows per chunk (one transaction each). Measured at 1M rows: 100,000 is no faster than
# 50,000 and holds 130 MB more.
CHUNK_ROWS = 50_000
# SQLite's page cache for the run's connection. Measured at 1M rows: 20 to 160 MB make no
# difference (the OS caches the file), but each MB is resident memory.
SQLITE_CACHE_KB = 40 * 1024
PG_TEMP_BUFFERS_MB = 64
# A run beats every BEAT_EVERY from a thread of its own (see requests_queue/heartbeat.py);
# six missed beats and it is taken for dead: the customer sees "stalled, resuming…" and the
# page or the scheduler's job resumes it from its last committed chunk.
BEAT_EVERY = timedelta(seconds=5)
STALE_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 3
# What an import writes: analysed after a bulk one (planner_stats).
IMPORT_TABLES = ("contacts", "email_addresses", "status_events", "contact_tags", "import_matches")
_SQL_SKIPS = {
    "duplicate": (
        SkipReason.duplicate,
        "an earlier row of this file already imported this contact",
    ),
    "conflict": (SkipReason.conflict, "its addresses belong to different existing contacts"),
    "taken": (
        SkipReason.conflict,
        "the matching contact already has a different address in that email field",
    ),
}
_CONTACT_COLUMNS = {
    Target.first_name: ("first_name", "first_name_key"),
    Target.last_name: ("last_name", "last_name_key"),
    Target.company: ("company",),
    Target.phone: ("phone",),
}


def _claim(conn: sa.Connection, batch_id: int, now: datetime) -> int | None:
    """Take the batch for this run: queued, or running with a heartbeat older than STALE_AFTER.

    Returns the run's attempt number, which fences it: every later write of this run names
    it, so a run that was taken for dead and replaced writes nothing more.
    """
    b = ImportBatch
    attempt = conn.execute(
        sa.update(b)
        .where(
            b.id == batch_id,
            sa.or_(
                b.state == ImportState.queued,
                sa.and_(b.state == ImportState.running, b.heartbeat_at < now - STALE_AFTER),
            ),
        )
        .values(
            state=ImportState.running,
            attempts=b.attempts + 1,
            heartbeat_at=now,
            started_at=sa.func.coalesce(b.started_at, now),
        )
        .returning(b.attempts)
    ).scalar()
    conn.commit()
    return attempt


class _Superseded(Exception):
    """Another run took the batch over (this one was silent too long): stop, write nothing."""


def _beat(engine: sa.Engine, batch_id: int, attempt: int, clock) -> bool:
    """One heartbeat on its own connection; False once the batch is no longer this run's."""
    b = ImportBatch
    with engine.begin() as conn:
        return (
            conn.execute(
                sa.update(b)
                .where(b.id == batch_id, b.state == ImportState.running, b.attempts == attempt)
                .values(heartbeat_at=clock())
            ).rowcount
            == 1
        )


def _batch_tag(conn: sa.Connection, account_id: int, name: str) -> int | None:
    if not name:
        return None
    tag_id = conn.scalar(sa.select(Tag.id).where(Tag.account_id == account_id, Tag.name == name))
    if tag_id is None:
        tag_id = conn.execute(
            sa.insert(Tag).values(account_id=account_id, name=name).returning(Tag.id)
        ).scalar_one()
    return tag_id


def _fail(conn: sa.Connection, batch_id: int, now: datetime, message: str) -> None:
    conn.rollback()
    conn.execute(
        sa.update(ImportBatch)
        .where(ImportBatch.id == batch_id)
        .values(state=ImportState.failed, error=message[:2000], finished_at=now, heartbeat_at=now)
    )
    conn.commit()


def _remove_file(conn: sa.Connection, batch_id: int, blob_id: int | None) -> None:
    # The upload holds the customer's contacts; once the run is over (finished, or failed for
    # good) it is not kept. The skipped rows' download reads import_row_errors, not the file.
    if blob_id is None:
        return
    conn.execute(sa.update(ImportBatch).where(ImportBatch.id == batch_id).values(file_blob_id=None))
    delete_blob(conn, blob_id)
    conn.commit()


def run_import(
    engine: sa.Engine,
    batch_id: int,
    clock: Callable[[], datetime] = now_utc,
    chunk_rows: int = CHUNK_ROWS,
    stop_after_chunks: int | None = None,
) -> ImportState | None:
    """Run (or resume) a batch to its end; return its final state, None if not claimed.

    `stop_after_chunks` stops early as a crash would (tests of restarts use it).
    """
    with engine.connect() as conn:
        attempt = _claim(conn, batch_id, clock())
        if attempt is None:
            return None
        batch = conn.execute(sa.select(ImportBatch).where(ImportBatch.id == batch_id)).one()
        b = batch._mapping
        if b["attempts"] > MAX_ATTEMPTS:
            _fail(conn, batch_id, clock(), f"The import stopped {MAX_ATTEMPTS} times; gave up.")
            _remove_file(conn, batch_id, b["file_blob_id"])
            return ImportState.failed
        try:
            file = open_blob(engine, b["file_blob_id"]) if b["file_blob_id"] else None
        except BlobMissing:
            file = None
        if file is None:
            _fail(conn, batch_id, clock(), "The uploaded file is no longer there; upload it again.")
            return ImportState.failed
        beats = Heartbeat(
            lambda: _beat(engine, batch_id, attempt, clock),
            BEAT_EVERY.total_seconds(),
            name=f"import-{batch_id}-heartbeat",
        )
        try:
            with running("import", batch_id), beats, _tuned(conn):
                state = _run(conn, b, file, attempt, clock, chunk_rows, stop_after_chunks)
        except _Superseded:
            log.warning("import batch %s: another run took it over; this one stops", batch_id)
            return None
        except Exception as exc:  # the batch must not stay "running"; the log has the trace
            log.exception("import batch %s failed", batch_id)
            _fail(conn, batch_id, clock(), _message(exc))
            _remove_file(conn, batch_id, b["file_blob_id"])
            return ImportState.failed
        finally:
            file.close()
        if state is ImportState.finished:  # the file is closed: its rows may go
            _finish(conn, batch_id, b["file_blob_id"], clock())
        return state


# What the run's own connection changes, and why it may: see _tuned.
_SQLITE_PRAGMAS = {
    "cache_size": -SQLITE_CACHE_KB,
    "temp_store": 2,  # the stage in memory
    "foreign_keys": 0,
    "ignore_check_constraints": 1,
}


# The JIT compiler judges the chunk's statements (50,000 rows) big enough to compile, then
# spends 1.4 s a chunk doing it, more than running them; a sort of a chunk's addresses
# needs more than the default 4 MB.
_PG_SETTINGS = {"jit": "off", "work_mem": "'64MB'"}


@contextmanager
def _tuned(conn: sa.Connection) -> Iterator[None]:
    """Settings for the run's own connection, put back before it returns to the pool.

    SQLite: every row the run inserts references rows it read or wrote itself in the same
    transaction under SQLite's single write lock, and every value a CHECK constraint guards
    (status, field, actor kind) is a literal of its enum: the foreign-key probes and the
    CHECK (… IN (…)) lists cannot fail, yet cost about 2 µs a row each (SQLite 3.40), more
    than the inserts themselves. PostgreSQL: see _PG_SETTINGS and _enlarge_temp_buffers.
    """
    if conn.dialect.name == "postgresql":
        _enlarge_temp_buffers(conn)
        for name, value in _PG_SETTINGS.items():
            conn.exec_driver_sql(f"SET {name} = {value}")
        conn.commit()
        try:
            yield
        finally:
            _end(conn)
            # The session keeps its temporary buffers (up to 64 MB) until it ends: end it,
            # rather than hand it back to the pool. The next use connects afresh.
            conn.invalidate()
        return
    conn.commit()  # pragmas take effect only outside a transaction
    before = {k: conn.exec_driver_sql(f"PRAGMA {k}").scalar_one() for k in _SQLITE_PRAGMAS}
    for name, value in _SQLITE_PRAGMAS.items():
        conn.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        _end(conn)
        for name, value in before.items():
            conn.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
        conn.exec_driver_sql("PRAGMA shrink_memory")  # give the cache's memory back


def _end(conn: sa.Connection) -> None:
    # Whatever is not committed yet is a chunk that failed halfway: it must not be saved.
    conn.rollback()
    drop_stage(conn)
    conn.commit()


def _enlarge_temp_buffers(conn: sa.Connection) -> None:
    """Give the stage 64 MB of session buffers (8 MB by default) when the session allows it.

    PostgreSQL refuses the change once the session has used temporary tables with another
    size; then the run goes on with what there is.
    """
    conn.commit()
    try:
        conn.exec_driver_sql(f"SET temp_buffers = '{PG_TEMP_BUFFERS_MB}MB'")
        conn.commit()
    except sa.exc.DBAPIError:
        conn.rollback()


def _message(exc: Exception) -> str:
    if isinstance(exc, _ReadError | DomainError):
        return str(exc)
    return "The import stopped because of an internal error; the counts show what was saved."


class _ReadError(Exception):
    """The file could not be parsed past some line."""


def _run(conn, b, file, attempt, clock, chunk_rows, stop_after_chunks) -> ImportState:
    status = status_for_permission(b["permission_confirmed"])
    actor = Actor(ActorKind.customer, b["user_id"])
    cause = Cause(import_batch_id=b["id"])
    mapping = mapping_from_json(b["mapping"])
    plan = RowPlan.of(mapping)
    updates = tuple(
        c for t, cols in _CONTACT_COLUMNS.items() if t in mapping.values() for c in cols
    )
    tag_id = _batch_tag(conn, b["account_id"], b["tag_name"])
    conn.commit()
    run = Run(b["account_id"], b["id"], status, actor, plan.fields, updates, tag_id)
    create_stage(conn)
    conn.commit()
    # Two threads: this one reads and parses the next chunk (Python work) while the writer
    # runs the previous chunk's set-based statements, during which the database driver
    # lets go of the GIL. Only one of them uses the connection at a time: the writer takes
    # it once the chunk is staged and gives it back when it has committed.
    with (
        RowReader(file, b["encoding"], b["delimiter"]) as reader,
        ThreadPoolExecutor(1, thread_name_prefix=f"import-{b['id']}") as writer,
    ):
        next(iter(reader), None)  # the header
        reader.skip_to(b["last_line"])
        chunks, writing = 0, None
        while True:
            chunk = _parse(reader, plan, chunk_rows)
            if writing is not None:
                writing.result()
            if chunk is None:
                break
            now = clock()
            # The rule book decides, once per chunk, that this actor may create these.
            check_transition(None, status, actor, cause)
            params = _begin_chunk(conn, run, attempt, chunk, now)
            writing = writer.submit(_finish_chunk, conn, run, attempt, chunk, params, now)
            chunks += 1
            if stop_after_chunks is not None and chunks >= stop_after_chunks:
                writing.result()
                return ImportState.running
    return ImportState.finished


def _finish(conn: sa.Connection, batch_id: int, blob_id: int | None, now: datetime) -> None:
    """Every row is in: mark the batch finished and drop its upload in one transaction, so a
    finished import never still holds the file (nor a dropped file an unfinished import)."""
    conn.execute(
        sa.update(ImportBatch)
        .where(ImportBatch.id == batch_id)
        .values(
            state=ImportState.finished,
            finished_at=now,
            heartbeat_at=now,
            bytes_read=ImportBatch.file_bytes,
            file_blob_id=None,
        )
    )
    delete_blob(conn, blob_id)
    conn.commit()
    written = conn.scalar(
        sa.select(ImportBatch.created_count + ImportBatch.updated_count).where(
            ImportBatch.id == batch_id
        )
    )
    if analyze_after_bulk(conn, IMPORT_TABLES, written):
        conn.commit()


def _parse(reader: RowReader, plan: RowPlan, chunk_rows: int) -> Chunk | None:
    try:
        return parse_chunk(reader, plan, chunk_rows)
    except csv.Error as exc:
        raise _ReadError(
            f"The file could not be read past line {reader.csv.line_num} ({exc})."
        ) from exc


def _begin_chunk(conn: sa.Connection, run: Run, attempt: int, chunk: Chunk, now: datetime) -> dict:
    """Open the chunk's transaction, take the account's write lock, stage the chunk."""
    b = ImportBatch
    ours = sa.and_(b.id == run.batch_id, b.attempts == attempt)
    if conn.dialect.name == "sqlite":
        # First statement of the transaction: a write, so SQLite takes its write lock now.
        alive = conn.execute(
            sa.update(b).where(ours, b.state == ImportState.running).values(heartbeat_at=now)
        ).rowcount
        state = ImportState.running if alive else conn.scalar(sa.select(b.state).where(ours))
    else:
        # Read, not written: a row lock held for the whole chunk would stall the heartbeat.
        state = conn.scalar(sa.select(b.state).where(ours))
    if state is None:
        raise _Superseded()
    if state is not ImportState.running:
        raise RuntimeError("the batch is no longer running (marked failed meanwhile)")
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT id FROM accounts WHERE id = :a FOR UPDATE"), {"a": run.account_id}
        )
    return stage_chunk(conn, run, chunk, now)


def _finish_chunk(
    conn: sa.Connection, run: Run, attempt: int, chunk: Chunk, params: dict, now: datetime
) -> None:
    """Write the staged chunk, record its skips and the progress, commit (if still ours)."""
    batch_id = run.batch_id
    counts, sql_skips = write_chunk(conn, run, chunk, params)
    skipped = list(chunk.skipped)
    for pos, outcome in sql_skips:
        reason, detail = _SQL_SKIPS[outcome]
        skipped.append((chunk.lines[pos - 1], reason, detail, chunk.cells[pos - 1]))
    if skipped:
        conn.execute(
            sa.insert(ImportRowError),
            [
                {
                    "batch_id": batch_id,
                    "line": line,
                    "reason": reason,
                    "detail": detail[:300],
                    "cells": cells_,
                }
                for line, reason, detail, cells_ in sorted(skipped, key=lambda s: s[0])
            ],
        )
    b = ImportBatch
    progressed = conn.execute(
        sa.update(b)
        .where(b.id == batch_id, b.attempts == attempt)
        .values(
            rows_read=b.rows_read + chunk.count,
            created_count=b.created_count + counts.get("new", 0),
            updated_count=b.updated_count + counts.get("match", 0),
            skipped_count=b.skipped_count + len(skipped),
            last_line=chunk.end_line,
            bytes_read=chunk.bytes_read,
            heartbeat_at=now,
        )
    ).rowcount
    if progressed != 1:  # taken over meanwhile: the other run writes this chunk
        conn.rollback()
        raise _Superseded()
    conn.commit()
