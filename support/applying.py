"""An approved request whose changes are still being applied: the background run, and what
the agent's and the customer's pages show of it (progress, "stalled, resuming…")."""

from __future__ import annotations

from flask import current_app

from requests_queue.models import ApplyState, ConsentRequest
from requests_queue.now import now_utc
from requests_queue.requests.applying import application_of, is_stalled, run_approval

from . import background
from .extensions import db


def start_applying(req: ConsentRequest) -> None:
    """Apply a large approval in a thread of this process, never inside the request; if the
    process stops first, the scheduler's resume_approvals job finishes it."""
    application = application_of(db.session, req)
    if application is None or application.state is not ApplyState.applying:
        return
    app = current_app._get_current_object()
    base_url = app.config["PUBLIC_BASE_URL"]
    request_id = req.id
    background.start(
        app, "approval", request_id, lambda: run_approval(db.engine, request_id, base_url)
    )


def applying_shown(req: ConsentRequest) -> dict:
    """The page's view of the request's application (None before approval or for one applied
    whole); a run that died is started again here, as the scheduler would."""
    application = application_of(db.session, req)
    stalled = application is not None and is_stalled(application, now_utc())
    if stalled and not background.is_running("approval", req.id):
        start_applying(req)
    return {"application": application, "apply_stalled": stalled}


def progress_response(req: ConsentRequest):
    """How far the application is, for the progress bar (progress.js)."""
    application = application_of(db.session, req)
    if application is None:  # applied whole, before applications were recorded
        return background.progress_response(True, 100, processed=req.address_count)
    return background.progress_response(
        application.state is not ApplyState.applying,
        application.percent_of(req.address_count),
        is_stalled(application, now_utc()),
        processed=application.processed_count,
        total=req.address_count,
    )
