"""What every bench case shares: fresh databases, timing, peak memory, the results file."""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.models import Base

RESULTS = Path(__file__).with_name("results.json")


@dataclass
class Result:
    """One measured figure."""

    case: str
    backend: str
    seconds: float
    rows: int | None = None
    peak_rss_mb: float | None = None
    baseline_seconds: float | None = None
    ratio: float | None = None
    limit: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.case} [{self.backend}]"


@dataclass
class Bench:
    """Collects results and prints them as a table."""

    results: list[Result] = field(default_factory=list)

    def record(self, result: Result) -> Result:
        """Keep a result and print its line at once."""
        self.results.append(result)
        print(_line(result), flush=True)
        return result

    def save(self) -> None:
        """Write results.json: case → figures (merged with earlier runs' other cases)."""
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        for r in self.results:
            data[r.key] = {k: v for k, v in asdict(r).items() if v not in (None, "", {})}
        RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True))


def _line(r: Result) -> str:
    parts = [f"{r.key:58}", f"{r.seconds * 1000:10.1f} ms"]
    if r.rows is not None:
        parts.append(f"{r.rows:>10,} rows")
    if r.baseline_seconds is not None:
        parts.append(f"floor {r.baseline_seconds * 1000:9.1f} ms  ratio {r.ratio:.2f}x")
    if r.peak_rss_mb is not None:
        parts.append(f"peak {r.peak_rss_mb:.0f} MB")
    if r.limit:
        parts.append(f"(limit {r.limit})")
    return "  ".join(parts)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Run fn once; return (seconds, its result)."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def median_time(fn: Callable[[], object], repeat: int = 7) -> float:
    """Median seconds of `repeat` runs (after one warm-up)."""
    fn()
    samples = sorted(timed(fn)[0] for _ in range(repeat))
    return samples[len(samples) // 2]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def own_peak_mb() -> float:
    """Peak resident memory of this process's own image, in MB.

    ru_maxrss is no good in a child: on Linux, exec keeps the high-water mark of the memory
    it replaces, which after subprocess's vfork is the parent's (the bench, whose SQLite cache
    just filled the database): the child would report the parent's peak. VmHWM is its own.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mb()


def backends() -> list[tuple[str, str]]:
    """(name, url) of each database to measure: SQLite always, PostgreSQL when configured."""
    out = [("sqlite", "")]
    pg = os.environ.get("BENCH_DATABASE_URL", "")
    if pg:
        for prefix in ("postgres://", "postgresql://"):
            if pg.startswith(prefix):
                pg = "postgresql+psycopg://" + pg[len(prefix) :]
        out.append(("postgresql", pg))
    return out


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        "synchronous=NORMAL",
        "cache_size=-262144",
        "temp_store=MEMORY",
    ):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


@contextmanager
def fresh_database(backend: str, url: str) -> Iterator[sa.Engine]:
    """An engine on an empty schema: a new SQLite file, or the PostgreSQL database emptied."""
    with tempfile.TemporaryDirectory(prefix="consent-bench-") as tmp:
        if backend == "sqlite":
            engine = sa.create_engine(f"sqlite:///{tmp}/bench.sqlite")
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = sa.create_engine(url)
        found = sa.MetaData()  # every table there, one an earlier schema had included
        found.reflect(engine)
        found.drop_all(engine)
        Base.metadata.create_all(engine)
        try:
            yield engine
        finally:
            Base.metadata.drop_all(engine) if backend != "sqlite" else None
            engine.dispose()


def session_for(engine: sa.Engine) -> Session:
    """A plain SQLAlchemy session (no Flask) on the bench engine."""
    return Session(engine, expire_on_commit=False)


def web_app(engine: sa.Engine, **config):
    """The web app on the bench database, forms without CSRF tokens (a test client posts
    them); `config` adds to or overrides that."""
    from support import create_app  # the bench's domain cases need no Flask

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": engine.url.render_as_string(hide_password=False),
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "bench",
            **config,
        }
    )
