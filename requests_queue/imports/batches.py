"""Import batches as the customer sees them: starting one, resuming stale runs, the skipped rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..models import ImportBatch, ImportRowError, ImportState, SkipReason
from ..statuses import Actor, ActorKind, Cause, check_transition, status_for_permission
from .mapping import Target, check_mapping, mapping_to_json
from .reading import FileFormat
from .runner import STALE_AFTER, run_import

PERMISSION_STATEMENT = "I have received prior permission to email these contacts."


def start_import(
    session: Session,
    account_id: int,
    actor: Actor,
    fmt: FileFormat,
    file_blob_id: int,
    filename: str,
    mapping: dict[int, Target],
    permission: bool,
    tag_name: str,
    now: datetime,
) -> ImportBatch:
    """Record the batch with the permission answer as evidence, naming its stored file.

    `file_blob_id`: the upload, put in the storage every host reaches (requests_queue/blobs)
    by the caller. The batch is queued: the caller commits, then starts `run_import` outside
    the request (on this host or, through `resume_stale_imports`, on the worker's).
    """
    if actor.kind is not ActorKind.customer or actor.user_id is None:
        raise ValidationError(None, "only a customer of the account imports contacts")
    check_mapping(mapping, fmt.header)
    tag_name = tag_name.strip()
    if len(tag_name) > 80:
        raise ValidationError("tag", "A tag has at most 80 characters.")
    status = status_for_permission(permission)
    batch = ImportBatch(
        account_id=account_id,
        user_id=actor.user_id,
        filename=Path(filename).name[:255] or "upload.csv",
        permission_confirmed=permission,
        permission_statement=PERMISSION_STATEMENT,
        created_at=now,
        state=ImportState.queued,
        tag_name=tag_name,
        mapping=mapping_to_json(mapping),
        header=fmt.header,
        encoding=fmt.encoding,
        delimiter=fmt.delimiter,
        file_bytes=fmt.size,
        file_blob_id=file_blob_id,
    )
    session.add(batch)
    session.flush()
    # Asked before anything runs, so a refused answer never leaves a queued batch behind.
    check_transition(None, status, actor, Cause(import_batch_id=batch.id))
    return batch


def resume_stale_imports(
    session: Session,
    now: datetime,
    run: Callable[..., ImportState | None] = run_import,
    should_stop: Callable[[], bool] | None = None,
) -> list[tuple[int, ImportState | None]]:
    """Resume every batch whose run died (or never started); return (batch id, final state).

    A batch is stale when it is running with no heartbeat for STALE_AFTER, or queued for that
    long. Each is claimed atomically, so two callers never run the same batch; a batch that has
    failed too often or lost its file is marked failed with its counts. Once `should_stop()`
    says yes, the run under way stops after its chunk and no further batch is started.
    """
    stale = now - STALE_AFTER
    b = ImportBatch
    ids = session.scalars(
        sa.select(b.id)
        .where(
            sa.or_(
                sa.and_(b.state == ImportState.running, b.heartbeat_at < stale),
                sa.and_(b.state == ImportState.queued, b.created_at < stale),
            )
        )
        .order_by(b.id)
    ).all()
    session.commit()  # the runs commit on their own connections
    engine = session.get_bind()
    if should_stop is None:
        return [(batch_id, run(engine, batch_id)) for batch_id in ids]
    results = []
    for batch_id in ids:
        if should_stop():
            break
        results.append((batch_id, run(engine, batch_id, should_stop=should_stop)))
    return results


def skipped_by_reason(session: Session, batch_id: int) -> list[tuple[SkipReason, int]]:
    """How many rows were skipped for each reason, most first."""
    rows = session.execute(
        sa.select(ImportRowError.reason, sa.func.count())
        .where(ImportRowError.batch_id == batch_id)
        .group_by(ImportRowError.reason)
        .order_by(sa.func.count().desc())
    ).all()
    return [(reason, n) for reason, n in rows]


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading =, +, -, @ (or tab, CR) gets a quote."""
    if cell and cell[0] in "=+-@\t\r":
        return "'" + cell
    return cell


def skipped_rows_csv(session: Session, batch: ImportBatch) -> Iterator[str]:
    """The skipped rows as CSV text, streamed: line, reason, detail, then the row's own cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Line", "Reason", "Detail", *(neutralise(h) for h in batch.header)])
    rows = session.execute(
        sa.select(
            ImportRowError.line, ImportRowError.reason, ImportRowError.detail, ImportRowError.cells
        )
        .where(ImportRowError.batch_id == batch.id)
        .order_by(ImportRowError.line)
        .execution_options(yield_per=2000)
    )
    yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
    for n, (line, reason, detail, cells) in enumerate(rows, 1):
        writer.writerow([line, reason.title, neutralise(detail), *map(neutralise, cells)])
        if n % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
