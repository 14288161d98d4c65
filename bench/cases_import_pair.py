"""Two customers import at once: what a second writer gains (issue 11's import figure).

Four accounts of size/4 contacts each (both addresses). Two of them import a file of size/2 rows
(half matching) one after the other; then the other two import files of the same shape at the
same time, each in a child process of its own, as two background workers would. Each pair
writes what the single import case writes: size rows, half of them matching.

One import holds its account's write lock and sends its statements on one connection: on
PostgreSQL that is one server process, so one core. Two accounts' imports use two. The
concurrent pair is compared with the pair one after the other (the speed-up a second writer
gives on this machine) and, on PostgreSQL, with a COPY of both files, the import case's floor.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from requests_queue.models import Role

from .cases_import import ChildImport, batch_counts, copy_floor, ready_for_import, write_csv
from .data import fill_account, make_user, slug_of
from .harness import Bench, Result, fresh_database

LIMIT = "ratio to COPY <= 20 and >= 50,000 rows/s (issue 11's import figure, two writers)"


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """Fill four accounts, import two files one after the other, then two at once."""
    rows, existing = size // 2, size // 4
    with fresh_database(backend, url) as engine, tempfile.TemporaryDirectory() as tmp:
        work = []  # (account id, importer id, file, the child's own folder)
        for name in ("Pair One", "Pair Two", "Pair Three", "Pair Four"):
            account_id = fill_account(engine, name, existing, fields=2)
            slug = slug_of(name)
            folder = Path(tmp) / slug
            folder.mkdir()
            write_csv(folder / "contacts.csv", rows, existing, slug)
            user_id = make_user(engine, f"importer@{slug}.example", Role.customer, account_id)
            work.append((account_id, user_id, folder / "contacts.csv", folder))
        ready_for_import(engine)
        after = [ChildImport(engine, *work[0]).result()]
        after.append(ChildImport(engine, *work[1]).result())
        children = [ChildImport(engine, *w) for w in work[2:]]
        together = [child.result() for child in children]
        for figures in after + together:
            counts = batch_counts(engine, figures["batch_id"])
            assert counts["created"] == rows - existing, counts
            assert counts["updated"] == existing and counts["state"] == "finished", counts
        one_by_one = sum(f["seconds"] for f in after)
        at_once = max(f["ended"] for f in together) - min(f["started"] for f in together)
        peak = max(f["peak_rss_mb"] for f in after + together)
        bench.record(
            Result(
                "import CSV, two accounts one after the other",
                backend,
                one_by_one,
                rows=2 * rows,
                peak_rss_mb=peak,
                extra={"rows_per_second": round(2 * rows / one_by_one)},
            )
        )
        result = Result(
            "import CSV, two accounts at once",
            backend,
            at_once,
            rows=2 * rows,
            peak_rss_mb=peak,
            extra={
                "rows_per_second": round(2 * rows / at_once),
                "speed_up": round(one_by_one / at_once, 2),
            },
            limit="SQLite has one writer at a time: the two take turns",
        )
        if backend == "postgresql":
            floor = copy_floor(engine, *(w[2] for w in work[2:]))
            result.baseline_seconds, result.ratio = floor, at_once / floor
            result.limit = LIMIT
        bench.record(result)
        print(
            f"   {2 * rows / one_by_one:,.0f} rows/s one after the other, "
            f"{2 * rows / at_once:,.0f} rows/s at once ({one_by_one / at_once:.2f}× sooner)",
            flush=True,
        )
