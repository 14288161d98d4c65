"""Mass opt-out: preview, run with the confirmed count, and the batches with their results.

Running one answers 202 at once with the batch (`state` "applying"); it is applied in the
background, and polling the batch's `Location` shows `changed_count` grow until `state` is
"done" (or "failed", with `error`).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, url_for
from flask_smorest import Blueprint
from marshmallow import fields, validate

from requests_queue.mass_actions import Direction, preview, prior_statuses, record_opt_out
from requests_queue.models import (
    EmailAddress,
    EmailField,
    MassAction,
    MassActionKind,
    MassActionState,
)
from requests_queue.now import now_utc
from requests_queue.selection import describe
from requests_queue.statuses import EmailStatus

from ..customer.mass_views import start_applying
from ..edge import committed
from ..extensions import db
from .auth import CUSTOMERS, api_actor, own, own_rows, protect
from .problems import register_problem_handlers
from .schemas import PageArgs, Schema, keyset_page, page_schema
from .selection import EmailFields, SelectionSchema, chosen_addresses

bp = Blueprint("mass_actions", __name__, description="Mass opt-out (customers).")
protect(bp, CUSTOMERS)
register_problem_handlers(bp)


class PreviewIn(Schema):
    """Which contacts, which fields, which way."""

    selection = fields.Nested(SelectionSchema, load_default=dict)
    fields_ = EmailFields(data_key="fields", load_default=lambda: [EmailField.email])
    direction = fields.Enum(Direction, by_value=True, load_default=Direction.opt_out)


class RunIn(Schema):
    """The opt-out, with the number of addresses the preview said would change."""

    selection = fields.Nested(SelectionSchema, load_default=dict)
    fields_ = EmailFields(data_key="fields", load_default=lambda: [EmailField.email])
    confirm_count = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The preview's `changing`: nothing runs if it differs now."},
    )


class PreviewOut(Schema):
    """How many addresses would change and why the others are skipped."""

    selection = fields.String(required=True)
    total = fields.Integer(required=True)
    changing = fields.Integer(required=True)
    skipped = fields.Integer(required=True)
    skipped_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class MassActionOut(Schema):
    """One mass opt-out: what it covered and what it did. Undo it by filing an undo request."""

    id = fields.Integer(required=True)
    kind = fields.Enum(MassActionKind, by_value=True, required=True)
    selection = fields.String(required=True)
    fields_ = fields.Function(
        lambda b: b.fields.split(","),
        data_key="fields",
        required=True,
        metadata={"type": "array", "items": {"type": "string"}},
    )
    state = fields.Enum(
        MassActionState,
        by_value=True,
        required=True,
        metadata={"description": "applying until every chunk is written; then done, or failed"},
    )
    expected_count = fields.Integer(
        required=True, metadata={"description": "the count the customer confirmed"}
    )
    changed_count = fields.Integer(
        required=True, metadata={"description": "addresses opted out so far"}
    )
    percent_done = fields.Integer(required=True)
    skipped_count = fields.Integer(required=True)
    skipped_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True, required=True)
    error = fields.String(required=True, metadata={"description": "why it stopped, if it did"})


class ItemOut(Schema):
    """An address the batch opted out, and the status it had before."""

    address = fields.String(required=True)
    prior_status = fields.Enum(EmailStatus, by_value=True, required=True)
    status_now = fields.Enum(EmailStatus, by_value=True, required=True)
    address_id = fields.Integer(required=True)


@bp.route("/mass-actions/preview", methods=["POST"])
@bp.arguments(PreviewIn)
@bp.response(200, PreviewOut)
def preview_action(body: dict):
    """Count the selection's addresses that would change (one grouped query)."""
    flt, fields_ = chosen_addresses(body)
    result = preview(db.session, flt, fields_, body["direction"])
    return {
        "selection": describe(db.session, flt),
        "total": result.total,
        "changing": result.changing,
        "skipped": result.skipped,
        "skipped_by_reason": result.skipped_by_reason,
    }


@bp.route("/mass-actions", methods=["POST"])
@bp.arguments(RunIn)
@bp.response(202, MassActionOut)
def run(body: dict):
    """Opt out the selection, as one batch the customer cannot undo themselves: recorded now
    and applied in the background (poll the batch until its state is done)."""
    flt, fields_ = chosen_addresses(body)
    with committed():
        batch = record_opt_out(
            db.session, flt, fields_, api_actor(), now_utc(), body["confirm_count"]
        )
    start_applying(current_app._get_current_object(), batch.id)
    return batch, 202, {"Location": url_for(".get_batch", batch_id=batch.id)}


@bp.route("/mass-actions")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(MassActionOut, "BatchPage"))
def list_batches(args: dict):
    """The account's mass actions, newest first."""
    return keyset_page(own_rows(MassAction), MassAction.id, args, newest_first=True)


@bp.route("/mass-actions/<id:batch_id>")
@bp.response(200, MassActionOut)
def get_batch(batch_id: int):
    """One batch and its counts."""
    return own(MassAction, batch_id)


@bp.route("/mass-actions/<id:batch_id>/addresses")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(ItemOut, "BatchItemPage"))
def batch_addresses(args: dict, batch_id: int):
    """The addresses the batch opted out, with the status each had before and has now."""
    batch = own(MassAction, batch_id)
    item = prior_statuses(batch.id).subquery()

    def now(column: sa.ColumnElement) -> sa.ScalarSelect:
        # Looked up for the page's rows only: a join let PostgreSQL merge the whole address
        # table in id order to find one page of a batch beside another large account.
        return sa.select(column).where(EmailAddress.id == item.c.address_id).scalar_subquery()

    query = sa.select(
        now(EmailAddress.address).label("address"),
        item.c.prior_status,
        now(EmailAddress.status).label("status_now"),
        item.c.address_id,
    )
    return keyset_page(query, item.c.address_id, args)
