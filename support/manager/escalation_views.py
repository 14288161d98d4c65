"""Escalation with action: the confirm page an SLA alert's one-click link opens, whose
CSRF-protected POST reassigns the request (the desk's one assign flow, its timeline event
included). Opening the link changes nothing."""

from flask import abort, redirect, render_template, request, url_for

from requests_queue.models import ConsentRequest, Role, User
from requests_queue.now import now_utc
from requests_queue.requests.access import can_reassign
from requests_queue.requests.window import request_window
from requests_queue.sla.escalation import suggest_assignees

from ..agent.assigning import NOBODY, assign_form, assign_from_form
from ..auth.session import current_actor
from ..edge import Outcome
from ..extensions import db
from ..ids import query_id
from ..kept_facts import team_calendar
from .views import bp


def _proposed(req: ConsentRequest) -> User | None:
    """The agent the link names, if still an active support user; else today's suggestion."""
    wanted = query_id("to")
    user = db.session.get(User, wanted) if wanted else None
    if user is not None and user.is_active and user.role in (Role.agent, Role.manager):
        return user
    pair = [(req.id, req.assignee_id)]
    offer = suggest_assignees(db.session, team_calendar(), now_utc(), pair).get(req.id)
    return offer.user if offer else None


@bp.route("/requests/<id:request_id>/reassign", methods=["GET", "POST"])
def reassign(request_id: int):
    """Confirm giving a request that crossed an SLA threshold to another agent."""
    req = db.session.get(ConsentRequest, request_id) or abort(404)
    if request.method == "POST":
        form = assign_form()
        if assign_from_form(req, form) is Outcome.done:
            return redirect(url_for("agent.review", request_id=req.id))
        status = 400
    else:
        form = assign_form(submitted=False)
        proposed = _proposed(req)
        form.assignee.data = proposed.id if proposed else NOBODY
        status = 200
    calendar = team_calendar()
    window = request_window(calendar, req, now_utc())
    return render_template(
        "manager/reassign.html",
        req=req,
        form=form,
        window=window,
        can_reassign=can_reassign(req, current_actor()),
    ), status
