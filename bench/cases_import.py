"""Issue 3's figures: a 1,000,000-row CSV imported into an account of 1,000,000 addresses.

Half the rows match existing contacts (both addresses), half are new. The import runs in a
child process, as it would in the background, so the peak memory printed is the import's
own: detection (a full pass over the file), the batch, and the chunked run. On PostgreSQL
the figure is compared with a plain COPY of the same file into a scratch table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from requests_queue.models import ImportBatch, Role

from .data import fill_account, make_user, slug_of
from .harness import Bench, Result, fresh_database, own_peak_mb, session_for

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
SLUG = slug_of("Import Bench")
PEAK_MB = 200  # issue 11: every background run under 200 MB of resident memory, at any size
WIDE = "First Name,Last Name,Company,Phone,Email,Email 2,Email 3,Tags,Notes,Source\r\n"


def write_csv(path: Path, rows: int, existing: int, slug: str = SLUG) -> None:
    """`rows` rows: even rows are existing contacts 1..existing (both addresses) of the account
    filled under `slug`, odd rows new (in domains of their own for another account's file)."""
    new = "" if slug == SLUG else f"{slug}."
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("First Name,Last Name,Email,Email 2\r\n")
        lines = []
        for i in range(rows):
            if i % 2 == 0 and i // 2 < existing:
                n = i // 2 + 1
                lines.append(f"First{n},Last{n},c{n}.1@{slug}.example,C{n}.2@{slug}.example\r\n")
            else:
                a, b = f"new{i}@{new}mail{i % 97}.example", f"n{i}@{new}alt.example"
                lines.append(f"Neu{i},Person {i},{a},{b}\r\n")
            if len(lines) == 10_000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)


def write_wide_csv(path: Path, rows: int) -> None:
    """`rows` new contacts in ten columns: every target the import maps (three addresses, two
    tags), and two columns it does not."""
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(WIDE)
        for start in range(0, rows, 10_000):
            f.writelines(
                f"Wide{i},Person Longer {i},Company Incorporated {i % 1000},+44 20 7946 "
                f"{i % 10_000:04d},wide{i}@mail{i % 97}.example,w{i}@alt{i % 13}.example,"
                f'third.address{i}@other.example,"customers, fair {i % 7}",'
                f"a note about contact {i},trade fair\r\n"
                for i in range(start, min(start + 10_000, rows))
            )


def ready_for_import(engine: sa.Engine) -> None:
    """Leave the filled database as a running one would be before an import.

    SQLite: checkpoint the fill's WAL, so the import does not pay for folding in the fill.
    PostgreSQL: fill_account writes explicit ids; move the sequences past them.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with engine.begin() as conn:
        for table in ("contacts", "email_addresses", "status_events", "tags"):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )


def copy_floor(engine: sa.Engine, *paths: Path) -> float:
    """Seconds to COPY the files, unparsed by Python, one after the other into an unindexed
    scratch table."""
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS import_copy_floor")
        conn.exec_driver_sql(
            "CREATE TABLE import_copy_floor (first_name text, last_name text, "
            "email text, email2 text)"
        )
        conn.commit()
        cursor = conn.connection.driver_connection.cursor()
        copy = "COPY import_copy_floor FROM STDIN WITH (FORMAT csv, HEADER true)"
        start = time.perf_counter()
        for path in paths:
            with (
                cursor.copy(copy) as cp,
                path.open("rb") as f,
            ):
                while block := f.read(1 << 20):
                    cp.write(block)
        conn.commit()
        seconds = time.perf_counter() - start
        conn.exec_driver_sql("DROP TABLE import_copy_floor")
        conn.commit()
    return seconds


class ChildImport:
    """An import run as the app's background runs it: in a process of its own, started now."""

    def __init__(self, engine: sa.Engine, account_id: int, user_id: int, path: Path, tmp: Path):
        db_url = engine.url.render_as_string(hide_password=False)
        args = [str(account_id), str(user_id), str(path), str(tmp)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.cases_import", db_url, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> dict:
        """Wait for it; its figures (batch id, seconds, peak memory)."""
        out, err = self.process.communicate()
        if self.process.returncode:
            raise RuntimeError(f"the import's process failed:\n{err}")
        return json.loads(out.strip().splitlines()[-1])


def batch_counts(engine: sa.Engine, batch_id: int) -> dict:
    """What the batch recorded: contacts created, matched, rows skipped, its state."""
    with session_for(engine) as s:
        batch = s.get(ImportBatch, batch_id)
        return {
            "created": batch.created_count,
            "updated": batch.updated_count,
            "skipped": batch.skipped_count,
            "state": batch.state.value,
        }


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """Fill the account, write the file, import it in a child process, record the figures."""
    with fresh_database(backend, url) as engine, tempfile.TemporaryDirectory() as tmp:
        account_id = fill_account(engine, "Import Bench", size // 2, fields=2)
        ready_for_import(engine)
        user_id = make_user(engine, "importer@bench.example", Role.customer, account_id)
        path = Path(tmp) / "contacts.csv"
        write_csv(path, size, size // 2)
        figures = ChildImport(engine, account_id, user_id, path, Path(tmp)).result()
        counts = batch_counts(engine, figures["batch_id"])
        expected_new = size - size // 2
        assert counts["created"] == expected_new and counts["updated"] == size // 2, counts
        seconds = figures["seconds"]
        extra = {
            **counts,
            "rows_per_second": round(size / seconds),
            "file_mb": round(path.stat().st_size / 1e6, 1),
        }
        result = Result(
            "import CSV (half matching, 2 address columns)",
            backend,
            seconds,
            rows=size,
            peak_rss_mb=figures["peak_rss_mb"],
            extra=extra,
            limit=f">= 50,000 rows/s on SQLite, peak < {PEAK_MB} MB",
        )
        if backend == "postgresql":
            floor = copy_floor(engine, path)
            result.baseline_seconds, result.ratio = floor, seconds / floor
            result.limit = (
                f"ratio to COPY <= 20 and >= 50,000 rows/s (issue 11), peak < {PEAK_MB} MB"
            )
        bench.record(result)
        print(f"   {size / seconds:,.0f} rows/s  {counts}", flush=True)
        _wide(bench, backend, engine, account_id, user_id, Path(tmp), size // 5)


def _wide(bench: Bench, backend: str, engine, account_id: int, user_id: int, tmp: Path, rows):
    """A file of ten columns into the same account: a chunk of it weighs more than one of the
    four-column file, and the run's peak must stay under PEAK_MB all the same."""
    path = tmp / "wide" / "contacts.csv"
    path.parent.mkdir()
    write_wide_csv(path, rows)
    figures = ChildImport(engine, account_id, user_id, path, path.parent).result()
    counts = batch_counts(engine, figures["batch_id"])
    assert counts["created"] == rows and counts["state"] == "finished", counts
    bench.record(
        Result(
            "import CSV, 10 columns (3 addresses, tags), new contacts",
            backend,
            figures["seconds"],
            rows=rows,
            peak_rss_mb=figures["peak_rss_mb"],
            extra={"rows_per_second": round(rows / figures["seconds"])},
            limit=f"peak < {PEAK_MB} MB (issue 11)",
        )
    )


def _child(db_url: str, account_id: int, user_id: int, path: Path, tmp: str) -> None:
    """The import as the app does it: inspect the upload, record the batch, run it."""
    from sqlalchemy.orm import Session

    from requests_queue.blobs import BlobStore, put_file
    from requests_queue.imports import inspect_file, run_import, start_import
    from requests_queue.statuses import Actor, ActorKind
    from support.database import _sqlite_pragmas

    engine = sa.create_engine(db_url)
    if engine.dialect.name == "sqlite":  # the app's own settings, not the bench's big cache
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    upload = Path(tmp) / "upload.csv"
    upload.hardlink_to(path)
    started, start = time.time(), time.perf_counter()
    fmt = inspect_file(upload)
    with Session(engine) as s:
        # Kept in the database, as the app does by default (UPLOAD_STORAGE=database).
        blob = put_file(BlobStore(), s, upload, account_id=account_id, now=NOW)
        batch = start_import(
            s,
            account_id,
            Actor(ActorKind.customer, user_id),
            fmt,
            blob.id,
            "contacts.csv",
            fmt.mapping,
            True,
            "",
            NOW,
        )
        s.commit()
        batch_id = batch.id
    state = run_import(engine, batch_id)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "batch_id": batch_id,
                "seconds": seconds,
                "started": started,  # wall clock, to compare runs in other processes
                "ended": started + seconds,
                "state": str(state),
                "peak_rss_mb": round(own_peak_mb(), 1),
            }
        )
    )


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]), sys.argv[5])
