"""A web host and a worker host that share only the database (issue 11, section 2).

gunicorn and `flask scheduler` run as real processes, each from a working directory of its
own, with nothing in common but DATABASE_URL. A customer imports a file through the web; the
web host is killed (SIGKILL, master and worker) while the import runs; the worker host's
scheduler takes the stalled import over and finishes it from the file in the database.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
import sqlalchemy as sa

from requests_queue.models import Contact, ImportBatch, ImportState
from support import ROOT
from tests.child_processes import wait_until
from tests.conftest import PASSWORD

pytestmark = pytest.mark.xdist_group("processes")

ROWS = 150_000  # three chunks of 50,000: the web host is killed long before the end


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _host_env(url: str, **more: str) -> dict[str, str]:
    """A host's environment: the code on PYTHONPATH, the shared database, nothing else shared."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UPLOAD_", "IMPORTS_"))}
    return dict(env, PYTHONPATH=str(ROOT), DATABASE_URL=url, SECRET_KEY="two-hosts", **more)


class Browser:
    """Just enough of a browser for the form posts: cookies, the CSRF token, multipart."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.geturl(), response.read().decode()

    def token(self, path: str) -> str:
        return re.search(r'name="csrf-token" content="([^"]+)"', self.get(path)[1]).group(1)

    def post(self, path: str, fields: dict, files: dict | None = None) -> tuple[str, str]:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        for name, (filename, content) in (files or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST")
        request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        with self.opener.open(request, timeout=120) as response:
            return response.geturl(), response.read().decode()


def _print_logs(tmp_path, engine, batch_id: int) -> None:
    """What pytest shows of a failed run: the batch's row and the end of each host's log."""
    with engine.connect() as conn:
        print("batch:", conn.execute(sa.select(ImportBatch.__table__).where(
            ImportBatch.id == batch_id)).one()._asdict())  # fmt: skip
    for name in ("web.log", "worker.log"):
        text = (tmp_path / name).read_text(errors="replace")
        print(f"--- {name} (last 20,000 characters) ---\n{text[-20_000:]}")


def _state(engine, batch_id: int) -> tuple[ImportState, int]:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(ImportBatch.state, ImportBatch.created_count).where(
                ImportBatch.id == batch_id
            )
        ).one()


def test_an_import_started_on_a_killed_web_host_is_finished_by_the_worker_host(
    db, session, customer, tmp_path
):
    url = db.engine.url.render_as_string(hide_password=False)
    session.commit()
    web_dir, worker_dir = tmp_path / "web-host", tmp_path / "worker-host"
    web_dir.mkdir()
    worker_dir.mkdir()
    port = _free_port()
    with (tmp_path / "web.log").open("wb") as log:  # the child keeps its own descriptor
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "app:app"],
            cwd=web_dir,
            env=_host_env(url, PORT=str(port), WEB_CONCURRENCY="1", LOG_LEVEL="warning"),
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # its own process group: the kill takes master and worker
        )
    worker = None
    try:
        browser = Browser(f"http://127.0.0.1:{port}")

        def web_up():
            try:
                return browser.get("/healthz")
            except OSError:
                return None

        wait_until(web_up, 60, "the web host")
        browser.post("/login", {"email": customer.email, "password": PASSWORD,
                                "csrf_token": browser.token("/login")})  # fmt: skip
        rows = "".join(f"p{i}@two-hosts.example\n" for i in range(ROWS)).encode()
        mapping, _ = browser.post(
            "/imports/new",
            {"csrf_token": browser.token("/imports/new"), "tag": ""},
            {"file": ("contacts.csv", b"Email\n" + rows)},
        )
        assert re.search(r"/imports/new/[\w-]+$", mapping), mapping
        path = mapping.removeprefix(browser.base)
        started, _ = browser.post(
            path, {"csrf_token": browser.token(path), "col_0": "email", "permission": "yes"}
        )
        batch_id = int(re.search(r"/imports/(\d+)$", started).group(1))

        os.killpg(web.pid, signal.SIGKILL)  # the web host dies with the import under way
        web.wait(30)
        state, created = _state(db.engine, batch_id)
        assert state in (ImportState.queued, ImportState.running) and created < ROWS

        with (tmp_path / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", "scheduler"],
                cwd=worker_dir,
                env=_host_env(url, SCHEDULER_TICK_SECONDS="0.5", SCHEDULER_LOCK_POLL_SECONDS="0.3"),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        started_waiting = time.monotonic()
        # Taken for dead after 30 s without a heartbeat, then resumed from its last chunk.
        try:
            wait_until(lambda: _state(db.engine, batch_id)[0] is ImportState.finished, 150,
                       "the worker host to finish the import")  # fmt: skip
        except AssertionError:
            worker.send_signal(signal.SIGUSR1)  # its threads' stacks, into worker.log
            time.sleep(1)
            _print_logs(tmp_path, db.engine, batch_id)
            raise
        assert time.monotonic() - started_waiting < 150
        state, created = _state(db.engine, batch_id)
        assert created == ROWS
        with db.engine.connect() as conn:
            contacts = conn.scalar(
                sa.select(sa.func.count())
                .select_from(Contact)
                .where(Contact.account_id == customer.account_id)
            )
            batch = conn.execute(
                sa.select(ImportBatch.file_blob_id).where(ImportBatch.id == batch_id)
            ).one()
        assert contacts == ROWS  # every row once: nothing of the killed run was doubled
        assert batch.file_blob_id is None  # the file is not kept once the import is done
        assert list(web_dir.iterdir()) == [] and list(worker_dir.iterdir()) == []
    finally:
        if web.poll() is None:
            os.killpg(web.pid, signal.SIGKILL)
            web.wait(30)
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(90)  # SIGTERM waits for the running job; slow on a busy machine
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(30)
                raise
