"""Customer portal: file mass opt-in and undo requests with evidence, follow and answer them."""

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from requests_queue.errors import NotFound, ValidationError
from requests_queue.mass_actions import parse_fields
from requests_queue.models import (
    AddressOutcome,
    ConsentRequest,
    EmailAddress,
    EmailField,
    RequestAddress,
    RequestEventKind,
    RequestState,
)
from requests_queue.now import now_utc
from requests_queue.requests.attachments import attach_files, attachment_of, request_files
from requests_queue.requests.evidence import evidence_problems
from requests_queue.requests.filing import file_request
from requests_queue.requests.freezing import is_freezing
from requests_queue.requests.lifecycle import answer_question, withdraw_request
from requests_queue.requests.targets import OptInTarget, UndoTarget
from requests_queue.requests.timeline import customer_timeline
from requests_queue.requests.window import request_window

from ..auth.session import current_actor
from ..edge import Outcome, operation
from ..evidence_files import checked_uploads, file_limits, send_attachment
from ..extensions import db
from ..form_errors import attach_errors, refusal, sentence
from ..kept_facts import team_calendar
from ..paging import requested_page
from ..request_runs import APPLYING, FREEZING, shown
from ..uploads import upload_store
from .request_forms import AnswerForm, EvidenceForm, WithdrawForm
from .scoping import filter_args, filter_from_args, own, own_mass_action
from .views import bp

SAMPLE = 100


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


@bp.route("/requests")
def my_requests():
    """Every request of the account, newest first, with its state."""
    mine = ConsentRequest.account_id == current_user.account_id
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ConsentRequest).where(mine))
    page = requested_page(total)
    rows = db.session.scalars(
        sa.select(ConsentRequest)
        .where(mine)
        .order_by(ConsentRequest.id.desc())
        .limit(page.size)
        .offset(page.offset)
    ).all()
    # Open requests show when a decision is expected, from their stored clocks as on their page.
    calendar, now = team_calendar(), now_utc()
    windows = {r.id: request_window(calendar, r, now) for r in rows if r.state.is_open}
    return render_template(
        "customer/requests.html", rows=rows, windows=windows, page=page.number, pages=page.pages
    )


@bp.route("/requests/new/opt-in", methods=["GET", "POST"])
def new_opt_in_request():
    """The mass opt-in request form for the selection and fields in the query string."""
    flt = filter_from_args()
    try:
        fields = parse_fields(request.args.getlist("fields"))
    except ValidationError as exc:
        flash(refusal(exc), "error")
        return redirect(url_for(".new_mass_action", direction="opt_in", **filter_args(flt)))
    back = url_for(
        ".new_mass_action",
        direction="opt_in",
        fields=[f.value for f in fields],
        **filter_args(flt),
    )
    return _evidence_page(OptInTarget(flt, fields), back)


@bp.route("/mass-actions/<id:batch_id>/undo", methods=["GET", "POST"])
def new_undo_request(batch_id: int):
    """The undo request form for one of the account's mass opt-outs."""
    batch = own_mass_action(batch_id)
    target = UndoTarget(current_user.account_id, batch.id)
    return _evidence_page(target, url_for(".mass_action", batch_id=batch.id))


def _evidence_page(target, back_url: str):
    """Show the frozen-to-be selection and the evidence form; file it when it passes."""
    form = EvidenceForm()
    undo = isinstance(target, UndoTarget)
    if undo:
        form.word_for_undo()
    now = now_utc()
    try:
        target.check(db.session)
        blocked = None
    except ValidationError as exc:
        blocked = sentence(exc.reason)
    # The request already covering this opt-out, to link rather than only name it.
    covering = target.covering_request(db.session) if undo and blocked else None
    if request.method == "POST" and blocked is None:
        valid = form.validate()
        files, refused = checked_uploads(form.files)
        problems = [*evidence_problems(form.evidence(), now), *refused]
        attach_errors(form, problems)
        if valid and not problems:
            with operation(form) as op:
                req = file_request(
                    db.session,
                    target,
                    form.evidence(),
                    current_actor(),
                    now,
                    base_url=_base_url(),
                    inline_max=current_app.config["FREEZE_INLINE_MAX"],
                )
                attach_files(
                    db.session, upload_store(), req, RequestEventKind.filed, files,
                    current_actor(), file_limits(), now,
                )  # fmt: skip
            if op.done:
                FREEZING.start(req)  # a large selection: recorded in the background
                return redirect(url_for(".request_filed", request_id=req.id))
    return render_template(
        "customer/request_new.html",
        form=form,
        target=target,
        summary=target.summary(db.session),
        selection=target.describe(db.session),
        fields=", ".join(EmailField(v).title for v in target.field_values(db.session).split(",")),
        blocked=blocked,
        covering=covering,
        back_url=back_url,
        permission_refused=bool(form.explicit_permission.errors)
        and form.explicit_permission.data == "no",
    )


@bp.route("/requests/<id:request_id>/filed")
def request_filed(request_id: int):
    """The confirmation right after filing: number and decision window."""
    req = own(ConsentRequest, request_id)
    window = request_window(team_calendar(), req, now_utc())
    freezing = is_freezing(db.session, req)
    return render_template("customer/request_filed.html", req=req, window=window, freezing=freezing)


@bp.route("/requests/<id:request_id>")
def customer_request(request_id: int):
    """One request: state, timeline, questions to answer, withdrawal, result."""
    return _request_page(own(ConsentRequest, request_id), AnswerForm())


def _request_page(req: ConsentRequest, answer_form: AnswerForm, status: int = 200):
    events = customer_timeline(db.session, req.id)
    window = request_window(team_calendar(), req, now_utc())
    outcome = {}
    if req.state is RequestState.approved:
        # A sample of each outcome the approval had, in the frozen order (the key's own range):
        # sorting a million addresses by text for the first hundred took seconds.
        counts = {
            AddressOutcome.changed: req.changed_count,
            AddressOutcome.skipped: req.skipped_count,
        }
        ra = RequestAddress
        for kind in AddressOutcome:
            if not counts.get(kind, 1):
                continue
            # The sample is taken from the request's own key range first, then joined: a
            # plan that starts from the addresses (statistics not yet caught up with a large
            # approval) took two seconds.
            sample = (
                sa.select(ra.address_id, ra.skip_reason)
                .where(ra.request_id == req.id, ra.outcome == kind)
                .order_by(ra.address_id)
                .limit(SAMPLE)
                .cte("sample")
                .prefix_with("MATERIALIZED", dialect="postgresql")
            )
            outcome[kind] = db.session.execute(
                sa.select(EmailAddress, sample.c.skip_reason)
                .join(sample, sample.c.address_id == EmailAddress.id)
                .order_by(sample.c.address_id)
            ).all()
    return render_template(
        "customer/request.html",
        req=req,
        events=events,
        answer_form=answer_form,
        withdraw_form=WithdrawForm(),
        window=window,
        outcome=outcome,
        sample=SAMPLE,
        files=request_files(db.session, req.id),
        **shown(req),
    ), status


@bp.route("/requests/<id:request_id>/freezing.json")
def request_freezing(request_id: int):
    """How far recording the request's selection is, for the progress bar."""
    return FREEZING.progress(own(ConsentRequest, request_id))


@bp.route("/requests/<id:request_id>/applying.json")
def request_applying(request_id: int):
    """How far applying the request's approval is, for the progress bar."""
    return APPLYING.progress(own(ConsentRequest, request_id))


@bp.route("/requests/<id:request_id>/answer", methods=["POST"])
def answer_request(request_id: int):
    """Answer support's question; the request goes back in review."""
    req = own(ConsentRequest, request_id)
    form = AnswerForm()
    files, refused = checked_uploads(form.files)
    if not form.validate() or refused:
        attach_errors(form, refused)
        return _request_page(req, form, 400)
    now = now_utc()
    with operation(form) as op:
        answer_question(
            db.session,
            req,
            form.answer.data or "",
            current_actor(),
            now,
            base_url=_base_url(),
        )
        attach_files(
            db.session, upload_store(), req, RequestEventKind.answer, files, current_actor(),
            file_limits(), now,
        )  # fmt: skip
    if op.outcome is Outcome.invalid:
        return _request_page(req, form, 400)
    if op.done:
        flash("Your answer was sent. Support continues the review.", "success")
    return redirect(url_for(".customer_request", request_id=req.id))


@bp.route("/requests/<id:request_id>/withdraw", methods=["GET", "POST"])
def withdraw(request_id: int):
    """Withdraw the request before a decision; the GET asks first, saying what it means."""
    req = own(ConsentRequest, request_id)
    if request.method == "GET":
        if not req.state.is_open:  # decided or withdrawn already: nothing left to confirm
            return redirect(url_for(".customer_request", request_id=req.id))
        return render_template("customer/request_withdraw.html", req=req, form=WithdrawForm())
    if not WithdrawForm().validate():
        abort(400)
    with operation() as op:
        withdraw_request(db.session, req, current_actor(), now_utc())
    if op.done:
        flash(f"Request {req.number} is withdrawn. Nothing was changed.", "success")
    return redirect(url_for(".customer_request", request_id=req.id))


@bp.route("/requests/<id:request_id>/files/<id:file_id>")
def request_file(request_id: int, file_id: int):
    """One of the request's evidence files: an image inline, anything else (or ?download=1)
    saved; another account's request or file is a 404."""
    req = own(ConsentRequest, request_id)
    try:
        attachment = attachment_of(db.session, req.id, file_id)
    except NotFound:
        abort(404)
    return send_attachment(attachment, download=request.args.get("download") == "1")
