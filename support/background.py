"""Work that must not run inside a web request: started in a thread of this process.

Imports and campaign queueing use it. Each run is keyed ("import", 7), so a page can ask
whether this process is still running it; if the process stops first, the scheduler's
resume jobs finish the work (the domain code records a heartbeat for that).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify

_runs: dict[tuple[str, int], threading.Thread] = {}
# What a progress bar says of a run that went silent until the resumed run's next chunk.
STALLED = "Stalled, resuming…"


def start(app: Flask, kind: str, key: int, work: Callable[[], Any]) -> threading.Thread:
    """Run `work()` inside an app context in a daemon thread named after (kind, key)."""

    def run() -> None:
        with app.app_context():
            work()

    for done in [k for k, t in _runs.items() if not t.is_alive()]:  # forget finished runs
        _runs.pop(done, None)
    thread = threading.Thread(target=run, name=f"{kind}-{key}", daemon=True)
    _runs[kind, key] = thread
    thread.start()
    return thread


def is_running(kind: str, key: int) -> bool:
    """Whether this process has a live thread for (kind, key)."""
    thread = _runs.get((kind, key))
    return thread is not None and thread.is_alive()


def wait(kind: str, timeout: float = 60) -> None:
    """Wait for this process's threads of `kind` (tests, and a clean shutdown)."""
    for key in [k for k in _runs if k[0] == kind]:
        _runs[key].join(timeout)
        _runs.pop(key, None)


def progress_response(done: bool, percent: int, stalled: bool = False, **counts: int) -> Response:
    """A background run's progress for its page's bar (progress.js), never cached."""
    body: dict = {"done": done, "percent": percent, **counts}
    if stalled:
        body["note"] = STALLED
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response
