"""An import run's chunks: parse the next while the previous is written, each committed with
its progress.

`run_chunks` reads the stored file from the line after the last committed chunk; per chunk it
takes the account's write lock, has `staging` stage and write it set-based, records the rows
it skipped and the line it reached, and commits, as long as the batch is still this run's
(its attempt number fences it: `Superseded` otherwise). Claiming, the heartbeat and the
batch's end are `runner`'s.
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import sqlalchemy as sa

from ..models import ImportBatch, ImportRowError, ImportState, SkipReason, Tag
from ..planner_stats import BULK_ROWS, analyze_after_bulk
from ..statuses import Actor, ActorKind, status_for_permission
from .mapping import Target, mapping_from_json
from .reading import RowReader
from .rows import Chunk, RowPlan, parse_chunk
from .scratch_tables import create_stage
from .staging import Run, stage_chunk, write_chunk

# Why staging's set-based statements skipped a row (write_chunk's outcomes).
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


class Superseded(Exception):
    """Another run took the batch over (this one was silent too long): stop, write nothing."""


class ReadError(Exception):
    """The file could not be parsed past some line."""


def _batch_tag(conn: sa.Connection, account_id: int, name: str) -> int | None:
    if not name:
        return None
    tag_id = conn.scalar(sa.select(Tag.id).where(Tag.account_id == account_id, Tag.name == name))
    if tag_id is None:
        tag_id = conn.execute(
            sa.insert(Tag).values(account_id=account_id, name=name).returning(Tag.id)
        ).scalar_one()
    return tag_id


# The tables an import writes, analysed once it has written BULK_ROWS rows and again at its end.
IMPORT_TABLES = ("contacts", "email_addresses", "status_events", "contact_tags", "import_matches")


def run_chunks(
    conn, b, file, attempt, clock, chunk_rows, stop_after_chunks, should_stop=None
) -> ImportState:
    """Write the batch `b`'s file from its last committed line on; finished at its end, still
    running if `stop_after_chunks` stopped it early, or `should_stop()`, asked once a chunk has
    committed and before the next one begins."""
    status = status_for_permission(b["permission_confirmed"])
    actor = Actor(ActorKind.customer, b["user_id"])
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
        chunks, writing, written, analysed = 0, None, 0, False
        while True:
            chunk = _parse(reader, plan, chunk_rows)
            if writing is not None:
                written += writing.result()
            if not analysed and written >= BULK_ROWS:
                # Planner statistics taken before this import may say the account holds no
                # addresses; the next chunks' probe (account, address) then walked the
                # account's other index, one full pass per row (minutes at 50,000 rows).
                # Analysed once the account's rows are many, the probe stays on its unique index.
                analyze_after_bulk(conn, IMPORT_TABLES, written)  # PostgreSQL's planner only
                conn.commit()
                analysed = True
            if chunk is None:
                break
            if should_stop is not None and should_stop():
                return ImportState.running
            now = clock()
            params = _begin_chunk(conn, run, attempt, chunk, now)
            writing = writer.submit(_finish_chunk, conn, run, attempt, chunk, params, now)
            chunks += 1
            if stop_after_chunks is not None and chunks >= stop_after_chunks:
                writing.result()
                return ImportState.running
    return ImportState.finished


def _parse(reader: RowReader, plan: RowPlan, chunk_rows: int) -> Chunk | None:
    try:
        return parse_chunk(reader, plan, chunk_rows)
    except csv.Error as exc:
        raise ReadError(
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
        raise Superseded()
    if state is not ImportState.running:
        raise RuntimeError("the batch is no longer running (marked failed meanwhile)")
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT id FROM accounts WHERE id = :a FOR UPDATE"), {"a": run.account_id}
        )
    return stage_chunk(conn, run, chunk, now)


def _finish_chunk(
    conn: sa.Connection, run: Run, attempt: int, chunk: Chunk, params: dict, now: datetime
) -> int:
    """Write the staged chunk, record its skips and the progress, commit (if still ours); how
    many addresses it created or matched."""
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
        raise Superseded()
    conn.commit()
    return counts.get("new", 0) + counts.get("match", 0)
