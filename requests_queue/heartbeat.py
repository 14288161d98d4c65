"""A heartbeat thread for long background runs (imports): alive every few seconds.

A run's progress is committed once per chunk, which can take longer than a heartbeat should
(a busy database, a big chunk). A thread beside the run writes the beat on its own
connection, so "running" means alive, and a run whose process died is noticed after a few
missed beats instead of minutes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Heartbeat:
    """Calls `beat()` every `every` seconds in a daemon thread while the `with` block runs.

    `beat` returns False when the run no longer holds its work (another run took it over);
    the thread then stops and `lost` is set. A beat that raises is logged and tried again
    at the next tick: a database that is briefly busy must not end the run.
    """

    def __init__(self, beat: Callable[[], bool], every: float, name: str = "heartbeat"):
        self.beat, self.every, self.name = beat, every, name
        self.stopped = threading.Event()
        self.lost = threading.Event()
        self.thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                if not self.beat():
                    self.lost.set()
                    return
            except Exception:
                log.warning("%s: could not record the heartbeat", self.name, exc_info=True)

    def __enter__(self) -> Heartbeat:
        self.thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(self.every + 15)
