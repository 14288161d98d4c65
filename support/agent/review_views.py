"""Agent desk: review one request and act on it (claim, assign, ask, note, approve, reject)."""

from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import joinedload

from requests_queue.errors import NotFound, ValidationError
from requests_queue.models import (
    ApplyState,
    ConsentRequest,
    EmailAddress,
    RejectReason,
    RequestAddress,
    RequestState,
)
from requests_queue.now import now_utc
from requests_queue.requests import kept_eligibility
from requests_queue.requests.access import allowed_actions, has_role_for
from requests_queue.requests.agent_queue import account_history
from requests_queue.requests.applying import application_of
from requests_queue.requests.approval import approve_request
from requests_queue.requests.attachments import request_files
from requests_queue.requests.evidence import checklist_problem
from requests_queue.requests.freezing import require_frozen
from requests_queue.requests.lifecycle import (
    add_internal_note,
    ask_customer,
    claim_request,
    reject_request,
)
from requests_queue.requests.saved_replies import fill_in, get_reply, reply_values
from requests_queue.requests.second_review import second_review_threshold
from requests_queue.requests.state_machine import Action
from requests_queue.requests.timeline import request_timeline
from requests_queue.requests.window import request_window

from ..auth.session import current_actor
from ..edge import Outcome, perform
from ..extensions import db
from ..form_errors import sentence
from ..kept_facts import team_calendar
from ..request_runs import APPLYING, FREEZING, shown
from ..templating import counted
from .assigning import assign_form, assign_from_form
from .forms import ApproveForm, AskForm, ClaimForm, ConfirmForm, NoteForm, RejectForm, ReturnForm
from .reply_picking import TARGETS, pick_form
from .views import bp

SAMPLE = 50


def _forms(**given) -> dict:
    forms = {
        "claim": ClaimForm(),
        "assign": assign_form(),
        "ask": AskForm(),
        "note": NoteForm(),
        "approve": ApproveForm(),
        "reject": RejectForm(),
        "pick": pick_form(),
        "confirm": ConfirmForm(),
        "send_back": ReturnForm(),
    }
    forms.update(given)
    return forms


# The parts of the review page's one decide form (approve-form): each of its buttons (approve,
# reject, "Use" a saved reply, send the question) posts them all.
DECIDE = ("approve", "reject", "ask")


def _as_posted(**given) -> dict:
    """The decide form's parts as they were posted, `given` in place of theirs: a page answered
    without a redirect keeps the ticks, the reason, the texts and the pickers as they were."""
    return {
        "approve": ApproveForm(),
        "reject": RejectForm(),
        "ask": AskForm(),
        "pick": pick_form(submitted=True),
        **given,
    }


def _refused(key: str, form) -> dict:
    """The forms of a page that refuses `form`: with the rest of the decide form as posted."""
    return _as_posted(**{key: form}) if key in DECIDE else {key: form}


# The request's account and people, which every review page names, in the request's query.
WITH_PEOPLE = (
    joinedload(ConsentRequest.account),
    joinedload(ConsentRequest.filed_by),
    joinedload(ConsentRequest.assignee),
)


def _load(request_id: int) -> ConsentRequest:
    req = db.session.get(ConsentRequest, request_id, options=WITH_PEOPLE)
    if req is None:
        abort(404)
    return req


def _review_page(req: ConsentRequest, status: int = 200, eligibility=None, **forms):
    """The review page; `eligibility` is the count already made for this answer (the first
    press of Approve). The count is the kept one plus the changes since
    (`kept_eligibility`), not a count of every frozen address."""
    if eligibility is None and req.state.is_open:
        eligibility = kept_eligibility.eligibility(db.session, req)
    addresses = db.session.execute(
        sa.select(RequestAddress, EmailAddress)
        .join(EmailAddress, EmailAddress.id == RequestAddress.address_id)
        .where(RequestAddress.request_id == req.id)
        .order_by(RequestAddress.address_id)
        .limit(SAMPLE)
    ).all()
    requests, batches = account_history(db.session, req.account_id)
    events = request_timeline(db.session, req.id)
    window = request_window(team_calendar(), req, now_utc())
    # What the page offers is asked of the lifecycle, the same rules the operations apply.
    actions = allowed_actions(req, current_actor())
    return render_template(
        "agent/review.html",
        req=req,
        forms=_forms(**forms),
        eligibility=eligibility,
        addresses=addresses,
        sample=SAMPLE,
        events=events,
        history=[r for r in requests if r.id != req.id],
        batches=batches,
        window=window,
        can_claim=Action.claim in actions,
        can_decide=Action.approve in actions,
        can_reassign=Action.assign in actions,
        can_second_review=Action.confirm in actions,
        second_review_threshold=second_review_threshold(db.session),
        files=request_files(db.session, req.id),
        **shown(req),
    ), status


@bp.route("/requests/<id:request_id>")
def review(request_id: int):
    """The review page: evidence with a checklist, eligibility now, timeline, history, actions."""
    return _review_page(_load(request_id))


@bp.route("/requests/<id:request_id>/freezing.json")
def freezing_progress(request_id: int):
    """How far recording the request's selection is, for the progress bar."""
    return FREEZING.progress(_load(request_id))


@bp.route("/requests/<id:request_id>/applying.json")
def applying_progress(request_id: int):
    """How far applying the request's approval is, for the progress bar."""
    return APPLYING.progress(_load(request_id))


def _act(
    req: ConsentRequest,
    run: Callable[[], object],
    said: Callable[[], str],
    form_key: str | None = None,
    form=None,
):
    """Run one operation at the edge; flash what it did, or show why it was refused."""
    outcome = perform(run, form)
    if outcome is Outcome.invalid:
        return _review_page(_load(req.id), 400, **_refused(form_key, form))
    if outcome is Outcome.done:
        flash(said(), "success")
    return redirect(url_for(".review", request_id=req.id))


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def _invalid(req: ConsentRequest, key: str, form):
    return _review_page(req, 400, **_refused(key, form))


@bp.route("/requests/<id:request_id>/claim", methods=["POST"])
def claim(request_id: int):
    """Claim the request for review; if someone was first, say who."""
    req = _load(request_id)
    form = ClaimForm()
    if not form.validate():
        abort(400)
    return _act(
        req,
        lambda: claim_request(db.session, req, current_actor(), now_utc()),
        lambda: f"You claimed {req.number}.",
    )


@bp.route("/requests/<id:request_id>/assign", methods=["POST"])
def assign(request_id: int):
    """A manager assigns or reassigns the request."""
    if not has_role_for(Action.assign, current_actor()):
        abort(403)
    req = _load(request_id)
    form = assign_form()
    if assign_from_form(req, form) is Outcome.invalid:
        return _invalid(req, "assign", form)
    return redirect(url_for(".review", request_id=req.id))


@bp.route("/requests/<id:request_id>/ask", methods=["POST"])
def ask(request_id: int):
    """Ask the customer; the request waits for their answer."""
    req = _load(request_id)
    form = AskForm()
    if not form.validate():
        return _invalid(req, "ask", form)

    def run() -> None:
        ask_customer(
            db.session, req, form.question.data, current_actor(), now_utc(), base_url=_base_url()
        )

    return _act(
        req,
        run,
        lambda: "The question was sent; the request waits for the customer's answer.",
        "ask",
        form,
    )


@bp.route("/requests/<id:request_id>/note", methods=["POST"])
def note(request_id: int):
    """Add an internal note."""
    req = _load(request_id)
    form = NoteForm()
    if not form.validate():
        return _invalid(req, "note", form)

    return _act(
        req,
        lambda: add_internal_note(db.session, req, form.note.data, current_actor(), now_utc()),
        lambda: "Note added (support only).",
        "note",
        form,
    )


@bp.route("/requests/<id:request_id>/approve", methods=["POST"])
def approve(request_id: int):
    """Approve and apply the changes (every checklist item must be checked)."""
    req = _load(request_id)
    form = ApproveForm()
    if not form.validate():
        return _invalid(req, "approve", form)
    try:  # its selection still being recorded: said next to the button, the ticks kept
        if Action.approve in allowed_actions(req, current_actor()):
            require_frozen(db.session, req)
    except ValidationError as exc:
        form.checklist.data = form.ticked()
        form.refusal = sentence(exc.reason)
        return _invalid(req, "approve", form)
    if form.confirmed.data != "yes" and Action.approve in allowed_actions(req, current_actor()):
        # The first press changes nothing: it says what approving will do and asks once more,
        # or why the ticks do not allow it yet (next to the button). Whoever may not approve
        # now goes straight to the operation, which refuses in its usual words.
        form.checklist.data = form.ticked()
        form.refusal = sentence(checklist_problem(form.checklist.data) or "")
        if form.refusal:
            return _invalid(req, "approve", form)
        form.confirming = kept_eligibility.eligibility(db.session, req)
        return _review_page(req, eligibility=form.confirming, approve=form)

    def said() -> str:
        if req.state is RequestState.pending_second_review:
            return f"{req.number} approved by you; nothing changes until another agent confirms it."
        return f"{req.number} approved: {applied_counts(req)}."

    return apply_checked(req, approve_request, form, "approve", said)


def apply_checked(
    req: ConsentRequest,
    operation: Callable[..., object],
    form: ApproveForm,
    form_key: str,
    said: Callable[[], str],
):
    """Approve or confirm (`operation`) with the form's evidence checklist, then flash `said`
    (read after the commit, so it can name the counts the approval stored); the approve and
    the second agent's confirm buttons share it."""

    def run() -> None:
        operation(
            db.session,
            req,
            current_actor(),
            now_utc(),
            checklist=form.checklist.data or [],
            base_url=_base_url(),
            inline_max=current_app.config["APPLY_INLINE_MAX"],
        )

    response = _act(req, run, said, form_key, form)
    APPLYING.start(req)  # a large approval: its changes are applied in the background
    return response


def applied_counts(req: ConsentRequest) -> str:
    """What an applied approval did, as the flash says it: "3 addresses changed, 1 skipped";
    for one still being applied, that it is."""
    application = application_of(db.session, req)
    if application is not None and application.state is ApplyState.applying:
        return f"{counted(req.address_count, 'address')} are being applied in the background"
    skipped = f", {req.skipped_count:,} skipped" if req.skipped_count else ""
    return f"{counted(req.changed_count, 'address')} changed{skipped}"


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

    def run() -> None:
        reject_request(
            db.session,
            req,
            RejectReason(form.reason.data),
            form.message.data,
            current_actor(),
            now_utc(),
            base_url=_base_url(),
        )

    return _act(
        req, run, lambda: f"{req.number} rejected; the customer is told why.", "reject", form
    )


@bp.route("/requests/<id:request_id>/use-reply", methods=["GET", "POST"])
def use_reply(request_id: int):
    """Put a saved reply, filled in from the request, in the ask or reject form; nothing is
    sent: the agent edits it there and sends it with the form's own button. Without
    JavaScript this page is the answer: everything else the decide form holds stays as posted."""
    req = _load(request_id)
    if request.method == "GET":  # the filled-in page reloaded: back to the review page
        return redirect(url_for(".review", request_id=req.id))
    target = request.form.get("use", "")
    approve = ApproveForm()  # carries the CSRF token and the checklist's ticks
    if target not in TARGETS or not approve.validate():
        abort(400)
    pick = pick_form(submitted=True)
    picker = pick[f"{target}_reply"]
    reply_id = picker.data if pick.validate() else None
    if not reply_id:
        picker.errors = picker.errors or ["Choose a saved reply."]
        return _review_page(req, 400, **_as_posted(approve=approve, pick=pick))
    try:
        reply = get_reply(db.session, reply_id, current_actor())
    except NotFound:
        abort(404)
    if reply.purpose is not TARGETS[target]:
        picker.errors = [f"Choose a saved reply made for this form ({TARGETS[target].title})."]
        return _review_page(req, 400, **_as_posted(approve=approve, pick=pick))
    window = request_window(team_calendar(), req, now_utc())
    values = reply_values(req, window and window.expected_by, approve.ticked())
    forms = _as_posted(approve=approve, pick=pick)  # the reason and the other text stay
    box = forms[target].question if target == "ask" else forms[target].message
    box.data = fill_in(reply.body, values)
    return _review_page(req, **forms)


from . import file_views  # noqa: E402,F401  (the review page's evidence files)
