"""Agent desk: one action on many requests ticked on the queue page (claim, assign, note).

Each request goes through the same operation as on its review page (requests_queue.requests.bulk);
what succeeded is committed once, each refusal is flashed with its request's number.
"""

from flask import abort, flash, redirect, request, url_for

from requests_queue.models import User
from requests_queue.now import now_utc
from requests_queue.requests.access import has_role_for
from requests_queue.requests.bulk import apply_each, selected_ids
from requests_queue.requests.lifecycle import add_internal_note, assign_request, claim_request
from requests_queue.requests.state_machine import Action

from ..auth.session import current_actor
from ..edge import Outcome, operation
from ..extensions import db
from ..form_errors import refusal
from .assigning import bulk_form
from .views import bp, queue_view

DONE = {"claim": "claimed", "assign": "assigned to {who}", "note": "noted"}


def _one_by_one(form):
    """The single-request operation the chosen action runs on each request; None (with an
    error on the form) when the action lacks what it needs."""
    actor, now, action = current_actor(), now_utc(), form.action.data
    if action == "claim":
        return lambda req: claim_request(db.session, req, actor, now)
    if action == "assign":
        if not has_role_for(Action.assign, actor):
            abort(403)
        user = db.session.get(User, form.bulk_assignee.data) if form.bulk_assignee.data else None
        if user is None:
            form.bulk_assignee.errors = ["Choose an agent or manager."]
            return None
        form.assignee_name = user.display_name
        return lambda req: assign_request(db.session, req, user, actor, now)
    text = form.bulk_note.data or ""
    if not text.strip():
        form.bulk_note.errors = ["Write the note."]
        return None
    return lambda req: add_internal_note(db.session, req, text, actor, now)


@bp.route("/bulk", methods=["GET", "POST"])
def bulk():
    """Claim, assign or note every selected request; report the count and each refusal."""
    if request.method == "GET":  # a refused form's page reloaded, or its filters and pages
        return redirect(url_for(".home", **request.args))
    form = bulk_form()
    run = _one_by_one(form) if form.validate() else None
    if run is None:
        return queue_view(form, 400)
    with operation(form) as op:  # a selection that is empty or too large: next to the boxes
        result = apply_each(db.session, selected_ids(form.selected.data or []), run)
    if op.outcome is Outcome.invalid:
        return queue_view(form, 400)
    if not op.done:
        return redirect(url_for(".home", **request.args))
    did = DONE[form.action.data].format(who=getattr(form, "assignee_name", ""))
    n = len(result.done)
    flash(f"{n} request{'' if n == 1 else 's'} {did}.", "success" if n else "warning")
    for number, exc in result.refused:
        flash(refusal(exc, about=number), "error")
    back = {k: v for k, v in request.args.items() if k != "select"}  # the boxes start empty
    return redirect(url_for(".home", **back))
