"""A request's background runs as its pages show them: recording a large filing's selection
(`requests.freezing`) and applying a large approval (`requests.applying`). Each kind starts its
run in a thread of this process, tells the page where it stands (restarting a run that died,
as the scheduler's resume job would), and answers its progress bar (progress.js)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app

from requests_queue.chunked import ChunkedRuns
from requests_queue.models import ConsentRequest
from requests_queue.now import now_utc
from requests_queue.requests import applying, freezing

from . import background
from .extensions import db


@dataclass(frozen=True)
class RequestRun:
    """One kind of a request's background run, as the web side handles it."""

    key: str  # background.start's kind
    name: str  # what the templates call the row (and `<stalled>` whether it stalled)
    stalled: str
    runs: ChunkedRuns
    load: Callable[[Any, ConsentRequest], Any]  # (session, request) -> its row, or None
    run: Callable[[Any, int, str], Any]  # (engine, request id, base url) -> final state
    counts: Callable[[Any, ConsentRequest], tuple[int, dict[str, int]]]  # percent, counts

    def _row(self, req: ConsentRequest):
        return self.load(db.session, req)

    def start(self, req: ConsentRequest) -> None:
        """Run it in a thread of this process, never inside the web request, if it has work
        left; if the process stops first, the scheduler's resume job finishes it."""
        row = self._row(req)
        if row is None or row.state is not self.runs.working:
            return
        app = current_app._get_current_object()
        base_url, request_id, run = app.config["PUBLIC_BASE_URL"], req.id, self.run
        background.start(app, self.key, request_id, lambda: run(db.engine, request_id, base_url))

    def shown(self, req: ConsentRequest) -> dict:
        """The page's view of the run's row (None: the request never needed one), and whether
        it stalled; a run that died is started again here."""
        row = self._row(req)
        stalled = row is not None and self.runs.is_stalled(row, now_utc())
        if stalled and not background.is_running(self.key, req.id):
            self.start(req)
        return {self.name: row, self.stalled: stalled}

    def progress(self, req: ConsentRequest) -> Response:
        """How far it is, for the progress bar."""
        row = self._row(req)
        if row is None:  # done whole, before such rows were recorded
            return background.progress_response(True, 100)
        percent, counts = self.counts(row, req)
        done, stalled = row.state is not self.runs.working, self.runs.is_stalled(row, now_utc())
        return background.progress_response(done, percent, stalled, **counts)


APPLYING = RequestRun(
    key="approval",
    name="application",
    stalled="apply_stalled",
    runs=applying.RUNS,
    load=applying.application_of,
    run=applying.run_approval,
    counts=lambda row, req: (
        row.percent_of(req.address_count),
        {"processed": row.processed_count, "total": req.address_count},
    ),
)
FREEZING = RequestRun(
    key="freeze",
    name="freeze",
    stalled="freeze_stalled",
    runs=freezing.RUNS,
    load=freezing.freeze_of,
    run=lambda engine, request_id, _base_url: freezing.run_freeze(engine, request_id),
    counts=lambda row, req: (
        row.percent(),
        {"frozen": row.frozen_count, "total": row.expected_count},
    ),
)


def shown(req: ConsentRequest) -> dict:
    """Both runs' views for a request's page (the templates' `application`, `freeze`…)."""
    return {**APPLYING.shown(req), **FREEZING.shown(req)}
