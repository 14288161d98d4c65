"""`make loadtest`: seed PostgreSQL, start `make serve`, run locust headless, judge the figures.

    python -m loadtest [--reuse] [--users 40] [--seconds 60] [--small]

LOADTEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/consent_desk_load) is
dropped and filled anew unless --reuse finds it seeded. LOCUST names the locust executable
(`make loadtest` installs it in .venv-load, apart from the app's own environment). Prints
requests/s and p50/p95/p99 per page and fails (exit 1) on any error or a missed target.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from support import ROOT

from . import seed

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/consent_desk_load"
P95_PAGES_MS = 300
QUEUE_RPS = 150
API = "send-time check (API)"


def _fresh_database(url: str) -> None:
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, port: int, log: Path) -> subprocess.Popen:
    env = dict(
        os.environ, DATABASE_URL=url, PORT=str(port), SECRET_KEY="loadtest", LOG_LEVEL="WARNING",
        WEB_CONCURRENCY=os.environ.get("WEB_CONCURRENCY", "2"),
        # The sending pipeline's token gets the rate its volume needs, as a deployment would
        # set it; the default 600/minute would answer its checks with 429.
        API_RATE_LIMIT=os.environ.get("API_RATE_LIMIT", "100/second"),
        PROMETHEUS_MULTIPROC_DIR=str(log.parent / "metrics"),
    )  # fmt: skip
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "support.serve", "--production"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return serve
        except OSError:
            time.sleep(0.5)
    serve.kill()
    raise SystemExit(f"make serve did not answer; see {log}")


def _report(stats_csv: Path, seconds: int) -> bool:
    rows = list(csv.DictReader(stats_csv.open()))
    print(f"\n{'page':<26}{'requests':>10}{'req/s':>9}{'p50':>7}{'p95':>7}{'p99':>7}{'errors':>8}")
    ok = True
    for row in rows:
        name = row["Name"]
        if not int(row["Request Count"]):  # the logins, before the measured run
            continue
        p95 = float(row["95%"] or 0)
        print(
            f"{name:<26}{int(row['Request Count']):>10,}{float(row['Requests/s']):>9.1f}"
            f"{row['50%']:>7}{row['95%']:>7}{row['99%']:>7}{int(row['Failure Count']):>8}"
        )
        if name == "Aggregated":
            if int(row["Failure Count"]):
                print(f"FAIL: {row['Failure Count']} errors")
                ok = False
            continue
        if name not in ("login", "login page", API, "file request") and p95 >= P95_PAGES_MS:
            print(f"FAIL: {name} p95 {p95:.0f} ms (required < {P95_PAGES_MS} ms)")
            ok = False
    queue = sum(float(r["Requests/s"]) for r in rows if r["Name"].startswith("queue"))
    print(f"\nqueue pages: {queue:.1f} requests/s over {seconds} s (required ≥ {QUEUE_RPS})")
    if queue < QUEUE_RPS:
        print("FAIL: queue throughput below the target")
        ok = False
    return ok


def main() -> int:
    """Seed, serve, load, judge."""
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--small", action="store_true", help="10,000 contacts, 2,000 requests")
    args = parser.parse_args()
    url = os.environ.get("LOADTEST_DATABASE_URL", DEFAULT_URL)
    if make_url(url).host not in ("127.0.0.1", "localhost", None):
        raise SystemExit("the load test runs on loopback only")
    contacts, requests = (10_000, 2_000) if args.small else (seed.CONTACTS, seed.REQUESTS)
    engine = sa.create_engine(url)
    if args.reuse and seed.is_seeded(engine):
        engine.dispose()
        seed.prepare(url)
        token = seed.api_token(url)
    else:
        engine.dispose()
        _fresh_database(url)
        started = time.monotonic()
        token = seed.seed(url, contacts, requests)
        print(f"seeded in {time.monotonic() - started:.0f} s")
    engine.dispose()
    work = Path(os.environ.get("LOADTEST_DIR", ROOT / "instance" / "loadtest"))
    work.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    serve = _serve(url, port, work / "serve.log")
    try:
        locust = os.environ.get("LOCUST", str(ROOT / ".venv-load" / "bin" / "locust"))
        env = dict(os.environ, LOADTEST_API_TOKEN=token, LOADTEST_CONTACTS=str(contacts),
                   LOADTEST_REQUESTS=str(requests), LOADTEST_SECONDS=str(args.seconds))  # fmt: skip
        # The locustfile ends the run `seconds` after the last login; -t only bounds a run
        # whose logins never finish.
        subprocess.run(
            [locust, "-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless",
             "-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds + 180}s",
             "--host", f"http://127.0.0.1:{port}", "--csv", str(work / "run"), "--only-summary"],
            env=env, check=False,
        )  # fmt: skip
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(60)
    return 0 if _report(work / "run_stats.csv", args.seconds) else 1


if __name__ == "__main__":
    sys.exit(main())
