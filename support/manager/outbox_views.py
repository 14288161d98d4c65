"""Manager pages: the outbox, filtered by state and kind; failed messages can be retried."""

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SubmitField

from requests_queue.campaigns.links import LINK_HIDDEN
from requests_queue.models import OutboxMessage, OutboxState
from requests_queue.now import now_utc
from requests_queue.outbox import (
    UNCERTAIN,
    StaffCopy,
    retry_failed,
    retry_message,
    state_counts,
    uncertain_count,
)

from ..edge import operation
from ..extensions import db
from ..paging import requested_page
from .views import bp


class RetryForm(FlaskForm):
    """Put a failed message (or all of them) back in line; the form only carries CSRF."""

    submit = SubmitField("Retry")


def _filters() -> tuple[OutboxState | None, str, bool]:
    raw = request.args.get("state", "")
    try:
        state = OutboxState(raw) if raw else None
    except ValueError:
        abort(404)
    return state, request.args.get("kind", "")[:40], request.args.get("uncertain") == "1"


def _back() -> str:
    """Where the retry form came from, if it is an outbox page; never another site."""
    target = request.form.get("next", "")
    home = url_for(".outbox")
    if target.startswith(home) and "//" not in target and "\\" not in target:
        return target
    return url_for(".outbox", state="failed")


@bp.route("/outbox")
def outbox():
    """Every queued email, newest first, with counts per state and failed ones highlighted."""
    state, kind, uncertain_only = _filters()
    conds = []
    if state is not None:
        conds.append(OutboxMessage.state == state)
    if uncertain_only:
        conds.append(UNCERTAIN)
    if kind:
        conds.append(OutboxMessage.kind == kind)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(*conds))
    page = requested_page(total)
    rows = db.session.scalars(
        sa.select(OutboxMessage)
        .where(*conds)
        .order_by(OutboxMessage.id.desc())
        .limit(page.size)
        .offset(page.offset)
    ).all()
    kinds = db.session.scalars(
        sa.select(OutboxMessage.kind).distinct().order_by(OutboxMessage.kind)
    ).all()
    return render_template(
        "manager/outbox.html",
        rows=[StaffCopy(m) for m in rows],  # recipient links are never shown to staff
        counts=state_counts(db.session),
        uncertain=uncertain_count(db.session),
        uncertain_only=uncertain_only,
        total=total,
        page=page.number,
        pages=page.pages,
        state=state,
        kind=kind,
        kinds=kinds,
        smtp_configured=bool(current_app.config.get("SMTP_HOST")),
        form=RetryForm(),
        OutboxState=OutboxState,
    )


@bp.route("/outbox/<id:message_id>")
def outbox_message(message_id: int):
    """One message as it will be (or was) sent: headers, body, tries and the last error."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return render_template(
        "manager/outbox_message.html",
        message=StaffCopy(message),  # recipient links are never shown to staff
        link_hidden=LINK_HIDDEN,
        form=RetryForm(),
        OutboxState=OutboxState,
    )


@bp.route("/outbox/<id:message_id>/retry", methods=["POST"])
def retry_outbox_message(message_id: int):
    """Send a failed message again at the sender's next run."""
    if not RetryForm().validate_on_submit():
        abort(400)
    despite_uncertain = request.form.get("despite_uncertain") == "1"
    with operation() as op:
        retry_message(db.session, message_id, now_utc(), despite_uncertain=despite_uncertain)
    if op.done:
        flash(f"Message #{message_id} will be sent again at the sender's next run.", "success")
    return redirect(_back())


@bp.route("/outbox/retry-failed", methods=["POST"])
def retry_all_failed():
    """Send every failed message again (after fixing the SMTP settings, say); never those
    whose delivery is uncertain, which are retried one by one."""
    if not RetryForm().validate_on_submit():
        abort(400)
    with operation() as op:
        count = retry_failed(db.session, now_utc())
        left = uncertain_count(db.session)
    if op.done:
        sent = f"{count:,} failed message(s) will be sent again at the sender's next run."
        flash(sent, "success")
        if left:
            flash(
                f"{left:,} message(s) whose delivery is uncertain were left alone: retry them "
                "one by one after checking with the recipient.",
                "info",
            )
    return redirect(url_for(".outbox", state="pending"))
