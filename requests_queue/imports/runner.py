"""Running an import batch: claim it, keep it alive, run its chunks, finish or fail it.

A run claims its batch (queued, or running with a stale heartbeat), beats from a thread of its
own while it works, hands the file to `pipeline` (the chunks, each committed with its
progress) on a connection `tuning` prepares, and at the end marks the batch finished or
failed and drops the upload. If the process dies, nothing half-done is visible: the last
chunk rolls back and `resume_stale_imports` picks the batch up again from there. This is a
job, not an operation: it owns its transactions on its own connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..blobs import BlobMissing, delete_blob, open_blob
from ..errors import DomainError
from ..heartbeat import Heartbeat
from ..logcontext import running
from ..models import ImportBatch, ImportState
from ..now import now_utc
from ..planner_stats import analyze_after_bulk
from .pipeline import IMPORT_TABLES, ReadError, Superseded, run_chunks
from .tuning import tuned

log = logging.getLogger(__name__)

# Rows per chunk (one transaction each). Measured at 1M rows: 100,000 is no faster than
# 50,000 and holds 130 MB more.
CHUNK_ROWS = 50_000
# A run beats every BEAT_EVERY from a thread of its own (see requests_queue/heartbeat.py);
# six missed beats and it is taken for dead: the customer sees "stalled, resuming…" and the
# page or the scheduler's job resumes it from its last committed chunk.
BEAT_EVERY = timedelta(seconds=5)
STALE_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 3
# What an import writes: analysed after a bulk one (planner_stats).


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
    should_stop: Callable[[], bool] | None = None,
) -> ImportState | None:
    """Run (or resume) a batch to its end; return its final state, None if not claimed.

    `stop_after_chunks` stops early as a crash would (tests of restarts use it). `should_stop`
    is asked after each committed chunk (the scheduler's SIGTERM): when it says yes the run
    hands the batch back (`_hand_back`) and returns `running`.
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
            with running("import", batch_id), beats, tuned(conn):
                state = run_chunks(
                    conn, b, file, attempt, clock, chunk_rows, stop_after_chunks, should_stop
                )
        except Superseded:
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
        elif should_stop is not None and should_stop():
            _hand_back(conn, batch_id, attempt, clock())
        return state


def _hand_back(conn: sa.Connection, batch_id: int, attempt: int, now: datetime) -> None:
    """This run stops between two chunks on purpose: the next run may take the batch at once.

    Its heartbeat is set as if it had stopped STALE_AFTER ago (the customer sees "stalled,
    resuming…", which it is), and its attempt is given back, so a scheduler restarted during
    deploys never counts toward MAX_ATTEMPTS. The update names this run's attempt: a run that
    was taken over hands back nothing.
    """
    b = ImportBatch
    conn.execute(
        sa.update(b)
        .where(b.id == batch_id, b.attempts == attempt, b.state == ImportState.running)
        .values(heartbeat_at=now - STALE_AFTER - timedelta(seconds=1), attempts=b.attempts - 1)
    )
    conn.commit()


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


def _message(exc: Exception) -> str:
    if isinstance(exc, ReadError | DomainError):
        return str(exc)
    return "The import stopped because of an internal error; the counts show what was saved."
