"""Requests: file (with every evidence field), list, read with the timeline, answer, withdraw.

Customers see their own account's requests (another account's id is a 404); agents and
managers see every request, internal notes included, as on the desk.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, current_app
from flask_smorest import Blueprint

from requests_queue.errors import ValidationError
from requests_queue.models import ConsentRequest, RequestKind, Role
from requests_queue.now import now_utc
from requests_queue.requests.applying import is_applying
from requests_queue.requests.evidence import EvidenceInput, evidence_problems
from requests_queue.requests.filing import file_request
from requests_queue.requests.freezing import is_freezing
from requests_queue.requests.lifecycle import answer_question, withdraw_request
from requests_queue.requests.targets import OptInTarget, UndoTarget
from requests_queue.requests.timeline import customer_timeline, request_timeline
from requests_queue.requests.window import request_window

from ..edge import committed
from ..extensions import db
from ..kept_facts import team_calendar
from ..request_runs import FREEZING
from .auth import EVERYONE, account_id, api_actor, api_user, protect
from .problems import register_problem_handlers, validation_problem
from .request_schemas import (
    AnswerIn,
    Detailed,
    FileRequestIn,
    RequestDetailOut,
    RequestListArgs,
    RequestOut,
)
from .schemas import PageArgs, created, keyset_page, page_schema
from .selection import chosen_addresses

bp = Blueprint("requests", __name__, description="Mass opt-in and undo requests.")
protect(bp, EVERYONE)
register_problem_handlers(bp)


class RequestListQuery(RequestListArgs, PageArgs):
    """Filters and page."""


def base_url() -> str:
    """Where the links in the emails a request sends point to."""
    return current_app.config["PUBLIC_BASE_URL"]


def _is_customer() -> bool:
    return api_user().role is Role.customer


def load_request(request_id: int) -> ConsentRequest:
    """The request, if the caller may see it (a customer: only their account's), else 404."""
    req = db.session.get(ConsentRequest, request_id)
    if req is None or (_is_customer() and req.account_id != api_user().account_id):
        abort(404)
    return req


def act_on(request_id: int, operation: Callable[..., object], *args, **kwargs) -> Detailed:
    """Load the request, apply one lifecycle operation as the caller now, commit, show it.

    `operation(session, req, *args, actor=…, now=…, **kwargs)`; its domain errors become
    problems through the blueprint's handlers.
    """
    req = load_request(request_id)
    with committed():
        operation(db.session, req, *args, actor=api_actor(), now=now_utc(), **kwargs)
    return detail(req)


def detail(req: ConsentRequest) -> Detailed:
    """The request with its timeline and decision window, for RequestDetailOut."""
    db.session.refresh(req)
    if _is_customer():
        events = customer_timeline(db.session, req.id)
    else:
        events = request_timeline(db.session, req.id)
    window = request_window(team_calendar(), req, now_utc())
    return Detailed(
        req,
        {
            "timeline": events,
            "expected_by": window.expected_by if window else None,
            "latest": window.latest if window else None,
            "freezing": is_freezing(db.session, req),
            "applying": is_applying(db.session, req),
        },
    )


def _evidence(body: dict) -> EvidenceInput:
    given = body["evidence"]
    if given["never_sent"] and given["last_sent_on"] is not None:
        raise ValidationError("last_sent_on", "give the date or say never_sent, not both")
    return EvidenceInput(
        reason=given["reason"],
        last_sent="never" if given["never_sent"] else given["last_sent_on"],
        explicit_permission=given["explicit_permission"],
        permission_details=given["permission_details"],
        form_links=tuple(given["form_links"]),
        list_source=given["list_source"],
        attested=given["attested"],
    )


@bp.route("/requests", methods=["POST"])
@bp.arguments(FileRequestIn)
@bp.response(201, RequestDetailOut)
def file(body: dict):
    """File a mass opt-in (selection + fields) or an undo (mass_action_id) with its evidence."""
    if not _is_customer():
        abort(403)
    if body["kind"] is RequestKind.undo_opt_out:
        if body["mass_action_id"] is None:
            raise ValidationError("mass_action_id", "name the mass opt-out to undo")
        target = UndoTarget(account_id(), body["mass_action_id"])
    else:
        target = OptInTarget(*chosen_addresses(body))
    target.check(db.session)  # another account's batch is a 404 before any evidence is read
    evidence = _evidence(body)
    now = now_utc()
    problems = evidence_problems(evidence, now)
    if problems:  # every broken rule at once, as the form shows them
        return validation_problem(problems)
    with committed():
        req = file_request(
            db.session,
            target,
            evidence,
            api_actor(),
            now,
            base_url=base_url(),
            inline_max=current_app.config["FREEZE_INLINE_MAX"],
        )
    FREEZING.start(req)  # a large selection: its addresses are recorded in the background
    return created(detail(req), 201, ".get_request", request_id=req.id)


@bp.route("/requests")
@bp.arguments(RequestListQuery, location="query")
@bp.response(200, page_schema(RequestOut, "RequestPage"))
def list_requests(args: dict):
    """Requests newest first: a customer's own account's; every account's for support."""
    query = sa.select(ConsentRequest)
    if _is_customer():
        query = query.where(ConsentRequest.account_id == api_user().account_id)
    if args.get("state") is not None:
        query = query.where(ConsentRequest.state == args["state"])
    if args.get("kind") is not None:
        query = query.where(ConsentRequest.kind == args["kind"])
    return keyset_page(query, ConsentRequest.id, args, newest_first=True)


@bp.route("/requests/<id:request_id>")
@bp.response(200, RequestDetailOut)
def get_request(request_id: int):
    """One request with its timeline (support also sees internal notes)."""
    return detail(load_request(request_id))


@bp.route("/requests/<id:request_id>/answer", methods=["POST"])
@bp.arguments(AnswerIn)
@bp.response(200, RequestDetailOut)
def answer(body: dict, request_id: int):
    """Answer support's question; the request goes back in review."""
    return act_on(request_id, answer_question, body["answer"], base_url=base_url())


@bp.route("/requests/<id:request_id>/withdraw", methods=["POST"])
@bp.response(200, RequestDetailOut)
def withdraw(request_id: int):
    """Withdraw the request before a decision; nothing is changed."""
    return act_on(request_id, withdraw_request)
