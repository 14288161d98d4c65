"""Schemas of requests: filing input with every evidence field, and the request as read."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields, validate

from requests_queue.models import (
    ConsentRequest,
    EmailField,
    ListSource,
    RejectReason,
    RequestEventKind,
    RequestKind,
    RequestState,
)
from requests_queue.requests.evidence import MAX_LINK_LENGTH, MAX_TEXT
from requests_queue.statuses import ActorKind

from ..ids import MAX_ID
from .schemas import Schema, Text
from .selection import EmailFields, SelectionSchema


@dataclass(frozen=True)
class Detailed:
    """A request and what its detail shows beside it (a tuple would read as status/headers)."""

    request: ConsentRequest
    extras: dict


class EvidenceIn(Schema):
    """The four questions support asks, and the attestation (DOMAIN.md: Requests)."""

    reason = Text(MAX_TEXT, load_default="", metadata={"description": "At least 30 characters."})
    last_sent_on = fields.Date(
        allow_none=True, load_default=None, metadata={"description": "Not in the future."}
    )
    never_sent = fields.Boolean(
        load_default=False, metadata={"description": "True instead of a date: never emailed."}
    )
    explicit_permission = Text(
        10, load_default="", metadata={"description": "Must be `yes`; `no` cannot be filed."}
    )
    permission_details = Text(
        MAX_TEXT, load_default="", metadata={"description": "At least 50 characters."}
    )
    form_links = fields.List(
        Text(MAX_LINK_LENGTH),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "1–10 absolute http(s) links to the sign-up forms."},
    )
    list_source = Text(
        40, load_default="", metadata={"description": ", ".join(s.value for s in ListSource)}
    )
    attested = fields.Boolean(
        load_default=False,
        metadata={
            "description": "The list was not purchased, rented, borrowed or harvested, and "
            "sending complies with CAN-SPAM and the acceptable-use policy."
        },
    )


class FileRequestIn(Schema):
    """A mass opt-in (a contact selection and fields) or an undo of one mass opt-out."""

    kind = fields.Enum(RequestKind, by_value=True, required=True)
    selection = fields.Nested(SelectionSchema, load_default=dict)
    fields_ = EmailFields(data_key="fields", load_default=lambda: [EmailField.email])
    mass_action_id = fields.Integer(
        allow_none=True, load_default=None, strict=True, validate=validate.Range(1, MAX_ID)
    )
    evidence = fields.Nested(EvidenceIn, required=True)


class TimelineEventSchema(Schema):
    """One entry of the request's timeline."""

    id = fields.Integer(required=True)
    kind = fields.Enum(RequestEventKind, by_value=True, required=True)
    at = fields.DateTime(attribute="created_at", required=True)
    actor = fields.Enum(ActorKind, by_value=True, attribute="actor_kind", required=True)
    from_state = fields.Enum(RequestState, by_value=True, allow_none=True, required=True)
    to_state = fields.Enum(RequestState, by_value=True, required=True)
    body = fields.String(required=True)
    is_internal = fields.Boolean(required=True)


class EvidenceOut(Schema):
    """The evidence as filed (never changed afterwards)."""

    reason = fields.String(required=True)
    last_sent_on = fields.Date(allow_none=True, required=True)
    never_sent = fields.Boolean(required=True)
    permission_details = fields.String(required=True)
    form_links = fields.List(fields.String(), required=True)
    list_source = fields.Enum(ListSource, by_value=True, required=True)
    attested = fields.Boolean(required=True)


class RequestOut(Schema):
    """A request: what it covers, its state, evidence and decision."""

    id = fields.Integer(required=True)
    number = fields.String(required=True)
    kind = fields.Enum(RequestKind, by_value=True, required=True)
    state = fields.Enum(RequestState, by_value=True, required=True)
    account_id = fields.Integer(required=True)
    mass_action_id = fields.Integer(allow_none=True, required=True)
    selection = fields.String(required=True)
    fields_ = fields.List(
        fields.Enum(EmailField, by_value=True), attribute="field_list", data_key="fields"
    )
    address_count = fields.Integer(required=True)
    filed_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    assignee_id = fields.Integer(allow_none=True, required=True)
    evidence = fields.Nested(EvidenceOut, required=True)
    decided_at = fields.DateTime(allow_none=True, required=True)
    reject_reason = fields.Enum(RejectReason, by_value=True, allow_none=True, required=True)
    decision_message = fields.String(required=True)
    changed_count = fields.Integer(required=True)
    skipped_count = fields.Integer(required=True)
    skipped_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)

    def get_attribute(self, obj, attr, default):
        """Read from the request; a `Detailed` adds values the request does not hold."""
        req, extras = (obj.request, obj.extras) if isinstance(obj, Detailed) else (obj, {})
        if attr in extras:
            return extras[attr]
        if attr == "evidence":  # the evidence columns live on the request itself
            return req
        return super().get_attribute(req, attr, default)


class RequestDetailOut(RequestOut):
    """A request with its timeline and, while open, its decision window."""

    timeline = fields.List(fields.Nested(TimelineEventSchema), required=True)
    expected_by = fields.DateTime(allow_none=True, required=True)
    latest = fields.DateTime(allow_none=True, required=True)
    freezing = fields.Boolean(
        required=True,
        metadata={
            "description": "filed, and its selection is still being recorded in the "
            "background: address_count is the count eligible at filing until this is false, "
            "and the request cannot be approved before"
        },
    )
    applying = fields.Boolean(
        required=True,
        metadata={
            "description": "approved, and its changes are still being applied in the "
            "background: changed_count grows until this is false"
        },
    )


class RequestListArgs(Schema):
    """Filters of a request list, with the page."""

    state = fields.Enum(RequestState, by_value=True)
    kind = fields.Enum(RequestKind, by_value=True)


class AnswerIn(Schema):
    """The customer's answer to support's question."""

    answer = Text(MAX_TEXT + 100, required=True)
