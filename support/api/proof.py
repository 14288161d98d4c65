"""Proof of consent (GDPR Art. 7(1)) as JSON: one address, or a selection of the contacts.

The document is written by requests_queue/proof as the events stream in (a selection of a
million addresses never sits in memory); the schemas below document it, and the schemathesis
test checks the answers against them.
"""

from __future__ import annotations

from flask import Response, stream_with_context
from flask_smorest import Blueprint
from marshmallow import fields, validate

from requests_queue.models import EmailField
from requests_queue.now import now_utc
from requests_queue.proof import (
    about_export,
    address_selection,
    as_json,
    filter_selection,
    proof_events,
)
from requests_queue.proof.events import CAUSES
from requests_queue.selection import describe
from requests_queue.statuses import ActorKind, EmailStatus

from ..extensions import db
from .addresses import _answer
from .auth import CUSTOMERS, account_id, api_user, protect
from .problems import register_problem_handlers
from .schemas import Schema
from .selection import SelectionQuery, contact_filter, in_field_order

bp = Blueprint("proof", __name__, description="Proof of consent (customers).")
protect(bp, CUSTOMERS)
register_problem_handlers(bp)


def _text(**kwargs) -> fields.String:
    return fields.String(allow_none=True, required=True, **kwargs)


class ImportProof(Schema):
    """The import batch that created the address, with its permission answer."""

    id = fields.Integer(required=True)
    file = fields.String(required=True)
    permission_confirmed = fields.Boolean(required=True)
    permission_statement = fields.String(required=True)
    answered_by = _text()
    answered_at = fields.DateTime(required=True)


class EvidenceProof(Schema):
    """The evidence the customer filed the request with."""

    reason = fields.String(required=True)
    last_sent_on = fields.String(required=True, metadata={"description": "A date or `never`."})
    explicit_permission = fields.Boolean(required=True)
    permission_details = fields.String(required=True)
    form_links = fields.List(fields.String(), required=True)
    list_source = fields.String(required=True)
    attested = fields.Boolean(required=True)


class MessageProof(Schema):
    """A question from support or the customer's answer (internal notes are never shown)."""

    kind = fields.String(required=True)
    at = fields.DateTime(required=True)
    by = _text()
    text = fields.String(required=True)


class AttachmentProof(Schema):
    """A file of evidence attached to the request: what it is, who attached it and when."""

    name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={"description": "Of the bytes as stored."})
    uploaded_by = fields.String(required=True)
    uploaded_at = fields.DateTime(required=True)
    came_with = fields.String(
        required=True, metadata={"description": "`filed`, or `answer` to a question."}
    )


class RequestProof(Schema):
    """The request that caused the change: its evidence, conversation and decision."""

    number = fields.String(required=True)
    kind = fields.String(required=True)
    filed_by = _text()
    filed_at = fields.DateTime(required=True)
    evidence = fields.Nested(EvidenceProof, required=True)
    conversation = fields.List(fields.Nested(MessageProof), required=True)
    attachments = fields.List(fields.Nested(AttachmentProof), required=True)
    state = fields.String(required=True)
    decided_by = _text()
    decided_at = fields.DateTime(allow_none=True, required=True)
    checklist = fields.List(fields.String(), required=True)
    reject_reason = _text()
    decision_message = fields.String(required=True)


class MassActionProof(Schema):
    """The customer's mass action that caused the change."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    selection = fields.String(required=True)
    by = _text()
    at = fields.DateTime(required=True)


class EmailProof(Schema):
    """The confirmation email whose link the recipient used, its links' keys hidden."""

    campaign_id = fields.Integer(required=True)
    written_at = fields.DateTime(required=True)
    subject = _text()
    text = _text()
    delivery = _text()
    sent_at = fields.DateTime(allow_none=True, required=True)


class EventProof(Schema):
    """One status change: who, when, how, on what grounds."""

    event_id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    from_status = fields.Enum(EmailStatus, by_value=True, allow_none=True, required=True)
    to_status = fields.Enum(EmailStatus, by_value=True, required=True)
    actor = fields.Enum(ActorKind, by_value=True, required=True)
    actor_name = _text()
    channel = fields.String(required=True, metadata={"description": "How the change arrived."})
    client_ip = _text(metadata={"description": "The recipient's, for a click on a link."})
    user_agent = _text()
    cause = fields.String(
        required=True, validate=validate.OneOf([*CAUSES, "provider_feed", "manual"])
    )
    cause_id = fields.Integer(allow_none=True, required=True)
    recorded_as = _text(metadata={"description": "Another spelling, merged into this one."})
    note = fields.String(required=True)
    import_ = fields.Nested(ImportProof, allow_none=True, required=True, data_key="import")
    request = fields.Nested(RequestProof, allow_none=True, required=True)
    mass_action = fields.Nested(MassActionProof, allow_none=True, required=True)
    confirmation_email = fields.Nested(EmailProof, allow_none=True, required=True)


class AddressProof(Schema):
    """One address and every change of its status, oldest first."""

    address_id = fields.Integer(required=True)
    address = fields.String(required=True)
    contact_id = fields.Integer(allow_none=True, required=True)
    field = fields.Enum(EmailField, by_value=True, allow_none=True, required=True)
    status = fields.Enum(EmailStatus, by_value=True, required=True)
    events = fields.List(fields.Nested(EventProof), required=True)


class ProofDocument(Schema):
    """What was exported, when and by whom, then each address in id order."""

    proof_of_consent = fields.String(required=True)
    account = fields.String(required=True)
    selection = fields.String(required=True)
    exported_at = fields.DateTime(required=True)
    exported_by = fields.String(required=True)
    addresses = fields.List(fields.Nested(AddressProof), required=True)


class ProofQuery(SelectionQuery):
    """The contact list's filters, and the email fields (all three when none is given)."""

    field = fields.List(fields.Enum(EmailField, by_value=True), load_default=list)


def _document(selection, described: str) -> Response:
    about = about_export(api_user(), described, now_utc())
    events = proof_events(db.session, account_id(), selection)
    return Response(stream_with_context(as_json(events, about)), mimetype="application/json")


@bp.route("/addresses/<string:email>/proof")
@bp.response(200, ProofDocument)
def address_proof(email: str):
    """Proof of consent of one address: every status change with its evidence."""
    answer = _answer(email)
    return _document(address_selection(account_id(), answer.address_id), answer.address)


@bp.route("/proof")
@bp.arguments(ProofQuery, location="query")
@bp.response(200, ProofDocument)
def selection_proof(args: dict):
    """Proof of consent of a selection of contacts (the contact list's filters): each
    address's status changes with their evidence; with `status`, only addresses in it."""
    flt = contact_filter(args)
    chosen = in_field_order(args["field"]) or tuple(EmailField)
    return _document(filter_selection(flt, chosen), describe(db.session, flt))
