"""A filed request whose selection is still being recorded: the background run, and what the
agent's and the customer's pages show of it (progress, "stalled, resuming…")."""

from __future__ import annotations

from flask import current_app

from requests_queue.models import ConsentRequest, FreezeState
from requests_queue.now import now_utc
from requests_queue.requests.freezing import freeze_of, is_stalled, run_freeze

from . import background
from .extensions import db


def start_freezing(req: ConsentRequest) -> None:
    """Record a large selection in a thread of this process, never inside the request; if the
    process stops first, the scheduler's resume_freezes job finishes it."""
    freeze = freeze_of(db.session, req)
    if freeze is None or freeze.state is not FreezeState.freezing:
        return
    app = current_app._get_current_object()
    request_id = req.id
    background.start(app, "freeze", request_id, lambda: run_freeze(db.engine, request_id))


def freezing_shown(req: ConsentRequest) -> dict:
    """The page's view of the request's freeze (None for one frozen before freezes were
    recorded); a run that died is started again here, as the scheduler would."""
    freeze = freeze_of(db.session, req)
    stalled = freeze is not None and is_stalled(freeze, now_utc())
    if stalled and not background.is_running("freeze", req.id):
        start_freezing(req)
    return {"freeze": freeze, "freeze_stalled": stalled}


def progress_response(req: ConsentRequest):
    """How far recording the selection is, for the progress bar (progress.js)."""
    freeze = freeze_of(db.session, req)
    if freeze is None:  # frozen whole, before freezes were recorded
        return background.progress_response(True, 100, frozen=req.address_count)
    return background.progress_response(
        freeze.state is not FreezeState.freezing,
        freeze.percent(),
        is_stalled(freeze, now_utc()),
        frozen=freeze.frozen_count,
        total=freeze.expected_count,
    )
