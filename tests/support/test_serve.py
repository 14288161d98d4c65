"""`make serve` as production runs it: migrations, gunicorn workers and the scheduler."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from support import ROOT
from tests.child_processes import wait_until
from tests.conftest import _pg_url

# Tests that start processes run on one pytest-xdist worker, one at a time (make test --dist
# loadgroup): several at once on two cores would stretch their startups past the bounds below.
pytestmark = pytest.mark.xdist_group("processes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), dict(error.headers)


@pytest.fixture
def empty_database(backend, tmp_path):
    """A database with nothing in it, as a new installation has."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'serve.sqlite'}"
        return
    url = make_url(_pg_url())
    name = f"{url.database}_serve"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_make_serve_migrates_and_answers_healthz_and_readyz(empty_database, tmp_path):
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=empty_database,
        SECRET_KEY="serve-test",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        METRICS_TOKEN="serve-metrics",
    )
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen([sys.executable, "-m", "support.serve", "--production"], cwd=ROOT,
                             env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def answered(path):
            try:
                return get(base + path)
            except OSError:
                return None  # not listening yet

        status, body, _ = wait_until(lambda: answered("/healthz"), 60, "gunicorn to listen")
        assert (status, body) == (200, {"status": "ok"})
        # Ready once the scheduler has reported in: migrated, scheduler alive, outbox empty.
        status, body, headers = wait_until(
            lambda: (r := answered("/readyz")) and r[0] == 200 and r, 60, "readiness"
        )
        assert body["status"] == "ready"
        assert body["checks"]["migrations"] == {"ok": True, "detail": "at head"}
        assert headers["X-Request-ID"]  # every answer names its request
        # Two workers, one scrape: the figures of every worker are summed (multiprocess mode).
        for _ in range(6):
            get(base + "/healthz")
        scrape = urllib.request.Request(
            base + "/metrics", headers={"Authorization": "Bearer serve-metrics"}
        )
        with urllib.request.urlopen(scrape, timeout=10) as response:
            text = response.read().decode()
        count = 'consent_desk_request_duration_seconds_count{method="GET",route="/healthz"'
        assert any(x.startswith(count) and float(x.split()[-1]) >= 7 for x in text.splitlines())
        started = time.monotonic()
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(40) == 0
        assert time.monotonic() - started < 30
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait(10)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert "Booting worker" in output and "Scheduler active" in output
