"""Customer portal: preview and run mass status changes; the list of past batches."""

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from requests_queue.mass_actions import (
    Direction,
    parse_fields,
    preview,
    preview_page,
    preview_rows,
    prior_statuses,
    record_opt_out,
)
from requests_queue.mass_runs import is_stalled, run_mass_opt_out
from requests_queue.models import EmailAddress, MassAction, MassActionState
from requests_queue.now import now_utc
from requests_queue.reports.export import csv_lines
from requests_queue.requests.targets import UndoTarget
from requests_queue.selection import fields_in_use

from .. import background
from ..auth.session import current_actor
from ..edge import operation
from ..extensions import db
from ..form_errors import field_named
from ..paging import requested_page
from .forms import ConfirmOptOutForm, MassActionForm
from .scoping import filter_from_args, own_latest, own_mass_action, selection_shown
from .views import bp


@bp.route("/mass-actions")
def mass_actions():
    """Past mass actions of the account with their counts."""
    return render_template("customer/mass_actions.html", batches=own_latest(MassAction, 200))


def _on_confirm_form(form: ConfirmOptOutForm, name: str | None):
    """A refusal naming no field of the form is about the number the customer confirmed."""
    return field_named(form, name) or form.confirm_count


@bp.route("/mass-actions/new", methods=["GET", "POST"])
def new_mass_action():
    """Choose fields and direction, see the preview, confirm an opt-out."""
    flt = filter_from_args()
    # The choice travels in the query string, so the preview is a plain GET a person can share.
    form = MassActionForm(formdata=request.args if "direction" in request.args else None)
    if "direction" not in request.args:
        # Every field the selection has addresses in: the preview covers what the list showed.
        form.fields.data = [f.value for f in fields_in_use(db.session, flt)] or ["email"]
    confirm = ConfirmOptOutForm()
    result = rows = page = None
    if "direction" in request.args and form.validate():
        fields = parse_fields(form.fields.data)
        direction = Direction(form.direction.data)
        if request.method == "POST" and direction is Direction.opt_out and confirm.validate():
            # The operation counts the selection again under the account's lock; the page's own
            # preview is only needed if it refuses (one count of a large account, not two).
            with operation(confirm, locate=_on_confirm_form) as op:
                batch = record_opt_out(
                    db.session, flt, fields, current_actor(), now_utc(), confirm.confirm_count.data
                )
            if op.done:
                start_applying(current_app._get_current_object(), batch.id)
                flash(
                    f"Mass opt-out #{batch.id} confirmed: {batch.expected_count:,} addresses are "
                    "being opted out in the background.",
                    "success",
                )
                return redirect(url_for(".mass_action", batch_id=batch.id))
        result = preview(db.session, flt, fields, direction)
        page = requested_page(result.total)
        rows = preview_page(db.session, flt, fields, direction, page.offset, page.size)
    return render_template(
        "customer/mass_action_new.html",
        form=form,
        confirm=confirm,
        preview=result,
        rows=rows,
        page=page,
        flt=flt,
        **selection_shown(flt),
    )


@bp.route("/mass-actions/preview.csv")
def mass_action_preview_csv():
    """Every address of a preview as CSV: who, which field, status now, and what would happen."""
    flt = filter_from_args()
    form = MassActionForm(formdata=request.args)
    if not form.validate():
        abort(404)
    fields, direction = parse_fields(form.fields.data), Direction(form.direction.data)
    verb = "Opt out" if direction is Direction.opt_out else "Eligible for opt-in"
    rows = (
        [r.first_name, r.last_name, r.field.title, r.address, r.status.title, r.skip_reason or verb]
        for r in db.session.execute(preview_rows(flt, fields, direction)).yield_per(1000)
    )
    header = ["First name", "Last name", "Field", "Address", "Status now", "Outcome"]
    lines = stream_with_context(csv_lines(header, rows))
    return Response(
        lines,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="preview-{direction.value}.csv"'},
    )


@bp.route("/mass-actions/<id:batch_id>")
def mass_action(batch_id: int):
    """One batch: counts, skipped by reason, and the addresses it changed."""
    batch = own_mass_action(batch_id)
    # The batch's first 100 addresses first, then their rows: joined before the limit,
    # PostgreSQL merged the whole address table in id order (290 ms beside a second
    # million-address account) to find 100 rows.
    item = prior_statuses(batch.id).order_by("address_id").limit(100).subquery()
    items = db.session.execute(
        sa.select(EmailAddress, item.c.prior_status)
        .join(item, item.c.address_id == EmailAddress.id)
        .order_by(item.c.address_id)
    ).all()
    undo = UndoTarget(batch.account_id, batch.id).covering_request(db.session)
    stalled = is_stalled(batch, now_utc())
    if stalled and not background.is_running("mass_action", batch.id):
        start_applying(current_app._get_current_object(), batch.id)  # its run died: resume
    return render_template(
        "customer/mass_action.html", batch=batch, items=items, undo=undo, stalled=stalled
    )


@bp.route("/mass-actions/<id:batch_id>/progress.json")
def mass_action_progress(batch_id: int):
    """How far applying a mass opt-out is, for the progress bar."""
    batch = own_mass_action(batch_id)
    return background.progress_response(
        batch.state is not MassActionState.applying,
        batch.percent_done,
        is_stalled(batch, now_utc()),
        changed=batch.changed_count,
        expected=batch.expected_count,
    )


def start_applying(app: Flask, batch_id: int) -> None:
    """Apply the mass opt-out in a thread of this process, never inside the request.

    If the process stops first, the scheduler's resume_mass_actions job finishes it.
    """
    background.start(app, "mass_action", batch_id, lambda: run_mass_opt_out(db.engine, batch_id))
