"""The send-time check (one address, or up to 1,000 at once) and an address's status history."""

from __future__ import annotations

import json

from flask import Response, abort
from flask_smorest import Blueprint
from marshmallow import fields, validate

from requests_queue.send_check import (
    MAX_LOOKUP,
    AddressAnswer,
    address_history,
    lookup_addresses,
)
from requests_queue.statuses import ActorKind, EmailStatus

from ..extensions import db
from .auth import CUSTOMERS, account_id, protect
from .problems import register_problem_handlers
from .schemas import (
    UNSTORABLE,
    PageArgs,
    Schema,
    TextList,
    cursor_of,
    page_of,
    page_schema,
)

bp = Blueprint("addresses", __name__, description="Send-time check and status history (customers).")
protect(bp, CUSTOMERS)
register_problem_handlers(bp)

CAUSES = ["request", "mass_action", "import", "campaign", "manual"]


class CauseSchema(Schema):
    """The latest status event: who changed the status, when, and on what grounds."""

    actor = fields.Enum(ActorKind, by_value=True, required=True)
    at = fields.DateTime(required=True)
    kind = fields.String(validate=validate.OneOf(CAUSES), required=True)
    id = fields.Integer(allow_none=True, required=True)
    note = fields.String(required=True)


class AnswerSchema(Schema):
    """Whether an address may receive marketing email now, since when and why."""

    query = fields.String(required=True, metadata={"description": "The address as asked."})
    address = fields.String(required=True, metadata={"description": "Its canonical form."})
    found = fields.Boolean(required=True)
    status = fields.Enum(EmailStatus, by_value=True, allow_none=True, required=True)
    marketable = fields.Boolean(required=True)
    since = fields.DateTime(allow_none=True, required=True)
    why = fields.Nested(CauseSchema, allow_none=True, required=True)
    contact_id = fields.Integer(allow_none=True, required=True)


class LookupIn(Schema):
    """Up to 1,000 addresses, in any spelling."""

    addresses = TextList(320, required=True, validate=validate.Length(min=1, max=MAX_LOOKUP))


class LookupOut(Schema):
    """One answer per address asked, in the same order."""

    results = fields.List(fields.Nested(AnswerSchema), required=True)


class EventSchema(Schema):
    """One status change of the address."""

    id = fields.Integer(required=True)
    at = fields.DateTime(attribute="created_at", required=True)
    from_status = fields.Enum(EmailStatus, by_value=True, allow_none=True, required=True)
    to_status = fields.Enum(EmailStatus, by_value=True, required=True)
    actor = fields.Enum(ActorKind, by_value=True, attribute="actor_kind", required=True)
    request_id = fields.Integer(allow_none=True, required=True)
    mass_action_id = fields.Integer(allow_none=True, required=True)
    import_batch_id = fields.Integer(allow_none=True, required=True)
    campaign_id = fields.Integer(allow_none=True, required=True)
    note = fields.String(required=True)


def _answer(email: str) -> AddressAnswer:
    if UNSTORABLE.search(email) or len(email) > 320:
        abort(404)  # no stored address can be spelled so
    answer = lookup_addresses(db.session, account_id(), [email])[0]
    if not answer.found:
        abort(404)
    return answer


@bp.route("/addresses/<string:email>")
@bp.response(200, AnswerSchema)
def get_address(email: str):
    """The send-time check of one address: status, marketable, since when and why."""
    return _answer(email)


@bp.route("/addresses/lookup", methods=["POST"])
@bp.arguments(LookupIn)
@bp.response(200, LookupOut)
def lookup(body: dict):
    """The send-time check of up to 1,000 addresses in one call (unknown ones: not found)."""
    answers = lookup_addresses(db.session, account_id(), body["addresses"])
    # Serialised by hand (LookupOut documents it; a test checks the two agree): the schema
    # walk costs more than the query for a full batch.
    body = json.dumps({"results": [_as_json(a) for a in answers]}, separators=(",", ":"))
    return Response(body, mimetype="application/json")


def _as_json(answer: AddressAnswer) -> dict:
    why = answer.why
    return {
        "query": answer.query,
        "address": answer.address,
        "found": answer.found,
        "status": answer.status.value if answer.status else None,
        "marketable": answer.marketable,
        "since": answer.since.isoformat() if answer.since else None,
        "why": why
        and {
            "actor": why.actor.value,
            "at": why.at.isoformat(),
            "kind": why.kind,
            "id": why.id,
            "note": why.note,
        },
        "contact_id": answer.contact_id,
    }


@bp.route("/addresses/<string:email>/history")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(EventSchema, "EventPage"))
def history(args: dict, email: str):
    """The address's status events, newest first."""
    answer = _answer(email)
    limit = args["limit"]
    rows = address_history(db.session, answer.address_id, cursor_of(args), limit + 1)
    items, next_url = page_of(rows, limit)
    return {"items": items, "next": next_url}
