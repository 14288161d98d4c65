"""Support's side: the queue of open requests, and claim, ask, approve, reject."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import fields, validate

from requests_queue.models import ConsentRequest, RejectReason, RequestKind, RequestState
from requests_queue.models.requests import OPEN_STATES
from requests_queue.requests.agent_queue import QueueFilter
from requests_queue.requests.approval import approve_request, confirm_approval
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.lifecycle import ask_customer, claim_request, reject_request

from ..ids import MAX_ID
from ..request_runs import APPLYING
from .auth import STAFF, protect
from .problems import register_problem_handlers
from .request_schemas import RequestDetailOut, RequestOut
from .requests import act_on, base_url
from .schemas import PageArgs, Schema, Text, keyset_page, page_schema

bp = Blueprint("desk", __name__, description="The request queue and its decisions (support).")
protect(bp, STAFF)
register_problem_handlers(bp)

OPEN = [s.value for s in OPEN_STATES]


class QueueArgs(PageArgs):
    """The desk's queue filters; oldest filed first."""

    kind = fields.Enum(RequestKind, by_value=True)
    state = fields.String(validate=validate.OneOf(OPEN))
    account = fields.Integer(validate=validate.Range(1, MAX_ID))
    assignee = fields.Integer(validate=validate.Range(1, MAX_ID))
    unassigned = fields.Boolean(load_default=False)


class AskIn(Schema):
    """The question for the customer."""

    question = Text(5100, required=True)


class ApproveIn(Schema):
    """Every evidence item checked, by key."""

    checklist = fields.List(
        fields.String(validate=validate.OneOf([key for key, _ in CHECKLIST])),
        required=True,
        validate=validate.Length(max=len(CHECKLIST)),
        metadata={"description": "All of: " + ", ".join(key for key, _ in CHECKLIST)},
    )


class RejectIn(Schema):
    """Why, from the list, and a message the customer reads."""

    reason = fields.Enum(RejectReason, by_value=True, required=True)
    message = Text(5100, required=True)


@bp.route("/queue")
@bp.arguments(QueueArgs, location="query")
@bp.response(200, page_schema(RequestOut, "QueuePage"))
def queue(args: dict):
    """Open requests across accounts, oldest filed first, with the desk's filters."""
    flt = QueueFilter(
        kind=args.get("kind"),
        account_id=args.get("account"),
        assignee_id=args.get("assignee"),
        unassigned=args["unassigned"],
    )
    states = [RequestState(args["state"])] if args.get("state") else list(OPEN_STATES)
    query = sa.select(ConsentRequest).where(ConsentRequest.state.in_(states), *flt.conditions())
    return keyset_page(query, ConsentRequest.id, args)


@bp.route("/requests/<id:request_id>/claim", methods=["POST"])
@bp.response(200, RequestDetailOut)
def claim(request_id: int):
    """Claim the request for review (409 if someone else was first)."""
    return act_on(request_id, claim_request)


@bp.route("/requests/<id:request_id>/ask", methods=["POST"])
@bp.arguments(AskIn)
@bp.response(200, RequestDetailOut)
def ask(body: dict, request_id: int):
    """Ask the customer; the request waits for their answer and the clock pauses."""
    return act_on(request_id, ask_customer, body["question"], base_url=base_url())


@bp.route("/requests/<id:request_id>/approve", methods=["POST"])
@bp.arguments(ApproveIn)
@bp.response(200, RequestDetailOut)
def approve(body: dict, request_id: int):
    """Approve and apply the changes (eligibility is checked again now). Above the second-review
    threshold nothing is applied yet: the request becomes `pending_second_review`. A large
    request is applied in the background: `applying` stays true until it is done."""
    return _approved(request_id, approve_request, body)


@bp.route("/requests/<id:request_id>/confirm", methods=["POST"])
@bp.arguments(ApproveIn)
@bp.response(200, RequestDetailOut)
def confirm(body: dict, request_id: int):
    """Confirm another agent's approval waiting for a second review, and apply it (never the
    first approver's own)."""
    return _approved(request_id, confirm_approval, body)


def _approved(request_id: int, operation, body: dict):
    """Approve or confirm, then start the background run a large request needs."""
    limit = current_app.config["APPLY_INLINE_MAX"]
    shown = act_on(
        request_id, operation, checklist=body["checklist"], base_url=base_url(), inline_max=limit
    )
    APPLYING.start(shown.request)
    return shown


@bp.route("/requests/<id:request_id>/reject", methods=["POST"])
@bp.arguments(RejectIn)
@bp.response(200, RequestDetailOut)
def reject(body: dict, request_id: int):
    """Reject with a reason and a message for the customer."""
    return act_on(request_id, reject_request, body["reason"], body["message"], base_url=base_url())
