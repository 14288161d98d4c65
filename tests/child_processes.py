"""Tests that run real child processes: wait on them, start a scheduler, and kill one (SIGKILL)
while a stalling SMTP server holds the message it is sending. The kill is real: nothing of the
child survives but what it committed to the database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from requests_queue.outbox import queue_email
from support import ROOT
from tests.conftest import NOW
from tests.smtp_sink import SinkHandler, SmtpSink


def wait_until(condition, seconds: float = 90.0, what: str = "condition"):
    """Poll `condition` until true; fail after `seconds` (a bound, not a speed check)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def stop_with_sigterm(proc: subprocess.Popen, seconds: float) -> float:
    """SIGTERM `proc`, wait up to `seconds` for it to exit cleanly (code 0); how long it took.
    A process that does not stop is killed, so no test leaves one behind."""
    asked = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(seconds) == 0
        return time.monotonic() - asked
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def start_scheduler(database_url: str, log: Path, **settings: str) -> subprocess.Popen:
    """A real `flask scheduler` process on `database_url`, every job ticking twice a second
    (test-only settings), its stderr in `log`; `settings` are more environment variables."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        SECRET_KEY="scheduler-test",
        SCHEDULER_TICK_SECONDS="0.5",
        SCHEDULER_LOCK_POLL_SECONDS="0.3",
        **settings,
    )
    with log.open("wb") as stderr:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "scheduler"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


class HoldingHandler(SinkHandler):
    """Keeps the `hold_at`-th message without answering until released, like a stalled server."""

    def __init__(self, hold_at: int):
        super().__init__()
        self.hold_at = hold_at
        self.holding = threading.Event()
        self.released = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.received) == self.hold_at:
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
        return reply


@contextmanager
def stalling_sink(hold_at: int = 3) -> Iterator[SmtpSink]:
    """A sink that stalls on the `hold_at`-th message until released (at the latest, here)."""
    handler = HoldingHandler(hold_at)
    with SmtpSink(handler) as sink:
        yield sink
        handler.released.set()


def kill_when_held(child: subprocess.Popen, sink: SmtpSink, who: str) -> None:
    """SIGKILL `child` as soon as the sink holds its message, then let the sink answer again."""
    try:
        assert sink.handler.holding.wait(60), f"{who} never reached message {sink.handler.hold_at}"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    sink.handler.released.set()


def queue_test_mail(session, count: int) -> None:
    """`count` messages of kind "test" to p0@example.test, p1@…, queued at NOW; commits."""
    for n in range(count):
        queue_email(
            session,
            to=f"p{n}@example.test",
            subject=f"Message {n}",
            text="Hi.",
            now=NOW,
            kind="test",
        )
    session.commit()
