"""Agent desk: review one request and act on it (claim, assign, ask, note, approve, reject)."""

from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice

from requests_queue.calendar_store import load_calendar
from requests_queue.clock import now_utc
from requests_queue.errors import Conflict, InvalidTransition, NotFound, ValidationError
from requests_queue.models import (
    ConsentRequest,
    EmailAddress,
    RejectReason,
    RequestAddress,
    Role,
    User,
)
from requests_queue.requests.approval import approve_request
from requests_queue.requests.lifecycle import (
    NotAllowed,
    add_internal_note,
    ask_customer,
    assign_request,
    claim_request,
    reject_request,
)
from requests_queue.requests.queue import account_history
from requests_queue.requests.targets import eligibility_now
from requests_queue.requests.timeline import request_timeline
from requests_queue.requests.window import request_window

from ..auth.session import current_actor
from ..extensions import db
from ..form_errors import attach_errors, sentence
from .forms import ApproveForm, AskForm, AssignForm, ClaimForm, NoteForm, RejectForm
from .views import bp, support_users

SAMPLE = 50


def _forms(**given) -> dict:
    forms = {
        "claim": ClaimForm(),
        "assign": AssignForm(),
        "ask": AskForm(),
        "note": NoteForm(),
        "approve": ApproveForm(),
        "reject": RejectForm(),
    }
    forms.update(given)
    forms["assign"].assignee.choices = [SelectChoice(u.id, u.display_name) for u in support_users()]
    return forms


def _load(request_id: int) -> ConsentRequest:
    req = db.session.get(ConsentRequest, request_id)
    if req is None:
        abort(404)
    return req


def _review_page(req: ConsentRequest, status: int = 200, **forms):
    addresses = db.session.execute(
        sa.select(RequestAddress, EmailAddress)
        .join(EmailAddress, EmailAddress.id == RequestAddress.address_id)
        .where(RequestAddress.request_id == req.id)
        .order_by(RequestAddress.address_id)
        .limit(SAMPLE)
    ).all()
    requests, batches = account_history(db.session, req.account_id)
    events = request_timeline(db.session, req.id)
    window = request_window(load_calendar(db.session), events, now_utc())
    return render_template(
        "agent/review.html",
        req=req,
        forms=_forms(**forms),
        eligibility=eligibility_now(db.session, req) if req.state.is_open else None,
        addresses=addresses,
        sample=SAMPLE,
        events=events,
        history=[r for r in requests if r.id != req.id],
        batches=batches,
        window=window,
        can_decide=req.state.value == "in_review"
        and (current_user.role is Role.manager or req.assignee_id == current_user.id),
    ), status


@bp.route("/requests/<id:request_id>")
def review(request_id: int):
    """The review page: evidence with a checklist, eligibility now, timeline, history, actions."""
    return _review_page(_load(request_id))


def _act(req: ConsentRequest, run: Callable[[], str], form_key: str | None = None, form=None):
    """Run one operation; commit and flash its message, or show why it was refused."""
    try:
        message = run()
    except ValidationError as exc:
        db.session.rollback()
        if form is not None:
            attach_errors(form, [exc])
            return _review_page(_load(req.id), 400, **{form_key: form})
        flash(sentence(exc.reason) + ".", "error")
    except (InvalidTransition, Conflict) as exc:
        db.session.rollback()
        flash(sentence(str(exc)) + ".", "error")
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except NotFound:
        abort(404)
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for(".review", request_id=req.id))


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def _invalid(req: ConsentRequest, key: str, form):
    return _review_page(req, 400, **{key: form})


@bp.route("/requests/<id:request_id>/claim", methods=["POST"])
def claim(request_id: int):
    """Claim the request for review; if someone was first, say who."""
    req = _load(request_id)
    form = ClaimForm()
    if not form.validate():
        abort(400)

    def run() -> str:
        claim_request(db.session, req, current_actor(), now_utc())
        return f"You claimed {req.number}."

    return _act(req, run)


@bp.route("/requests/<id:request_id>/assign", methods=["POST"])
def assign(request_id: int):
    """A manager assigns or reassigns the request."""
    if current_user.role is not Role.manager:
        abort(403)
    req = _load(request_id)
    form = _forms()["assign"]
    if not form.validate():
        return _invalid(req, "assign", form)
    user = db.session.get(User, form.assignee.data) if form.assignee.data else None
    if user is None:
        form.assignee.errors = ["Choose an agent or manager."]
        return _invalid(req, "assign", form)

    def run() -> str:
        assign_request(db.session, req, user, current_actor(), now_utc())
        return f"{req.number} is assigned to {user.display_name}."

    return _act(req, run, "assign", form)


@bp.route("/requests/<id:request_id>/ask", methods=["POST"])
def ask(request_id: int):
    """Ask the customer; the request waits for their answer."""
    req = _load(request_id)
    form = AskForm()
    if not form.validate():
        return _invalid(req, "ask", form)

    def run() -> str:
        ask_customer(
            db.session, req, form.question.data, current_actor(), now_utc(), base_url=_base_url()
        )
        return "The question was sent; the request waits for the customer's answer."

    return _act(req, run, "ask", form)


@bp.route("/requests/<id:request_id>/note", methods=["POST"])
def note(request_id: int):
    """Add an internal note."""
    req = _load(request_id)
    form = NoteForm()
    if not form.validate():
        return _invalid(req, "note", form)

    def run() -> str:
        add_internal_note(db.session, req, form.note.data, current_actor(), now_utc())
        return "Note added (support only)."

    return _act(req, run, "note", form)


@bp.route("/requests/<id:request_id>/approve", methods=["POST"])
def approve(request_id: int):
    """Approve and apply the changes (every checklist item must be checked)."""
    req = _load(request_id)
    form = ApproveForm()
    if not form.validate():
        return _invalid(req, "approve", form)

    def run() -> str:
        done = approve_request(
            db.session,
            req,
            current_actor(),
            now_utc(),
            checklist=form.checklist.data or [],
            base_url=_base_url(),
        )
        skipped = f", {done.skipped_count:,} skipped" if done.skipped_count else ""
        return f"{done.number} approved: {done.changed_count:,} addresses changed{skipped}."

    return _act(req, run, "approve", form)


@bp.route("/requests/<id:request_id>/reject", methods=["POST"])
def reject(request_id: int):
    """Reject with a reason and a message for the customer."""
    req = _load(request_id)
    form = RejectForm()
    if not form.validate():
        return _invalid(req, "reject", form)
    if not form.reason.data:
        form.reason.errors = ["Choose a reason."]
        return _invalid(req, "reject", form)

    def run() -> str:
        reject_request(
            db.session,
            req,
            RejectReason(form.reason.data),
            form.message.data,
            current_actor(),
            now_utc(),
            base_url=_base_url(),
        )
        return f"{req.number} rejected; the customer is told why."

    return _act(req, run, "reject", form)
