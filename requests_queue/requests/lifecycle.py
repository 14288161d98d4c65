"""The request state machine (DOMAIN.md: Requests) and the operations that move a request.

`TABLE` is the one rule book: (state, action) → (new state, who may do it). Every operation
asks it through `check_action`, then moves the request with a conditional UPDATE
(`… WHERE state = <the state it checked>`) so two people acting at once cannot both win,
appends a `RequestEvent` to the timeline, moves the stored SLA clock when the event starts or
stops it, queues its notification and flushes. The caller commits. Filing lives in `filing`,
approval in `approval`; both use the helpers below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..enums import TitledEnum
from ..errors import Conflict, DomainError, InvalidTransition, NotFound, ValidationError
from ..models import (
    ConsentRequest,
    RejectReason,
    RequestEvent,
    RequestEventKind,
    RequestState,
    Role,
    User,
)
from ..models.requests import OPEN_STATES
from ..sla.deadlines import moves_clock, refresh_clocks_of
from ..statuses import Actor, ActorKind
from ..webhooks import queueing as webhooks
from . import notifications

S = RequestState
MAX_MESSAGE = 5000


class NotAllowed(DomainError):
    """The actor's role (or not being the assignee) does not allow this action."""


class Action(TitledEnum):
    """What somebody does to a request."""

    file = ("file", "file")
    claim = ("claim", "claim")
    assign = ("assign", "assign")
    release = ("release", "return to the pool")
    ask = ("ask", "ask the customer about")
    answer = ("answer", "answer")
    note = ("note", "add a note to")
    warn = ("warn", "send a closing reminder for")
    approve = ("approve", "approve")
    approve_first = ("approve_first", "approve (pending a second review)")
    confirm = ("confirm", "confirm the approval of")
    send_back = ("send_back", "return")
    reject = ("reject", "reject")
    withdraw = ("withdraw", "withdraw")
    close = ("close", "close")


CUSTOMER = frozenset({ActorKind.customer})
SUPPORT = frozenset({ActorKind.agent, ActorKind.manager})
MANAGER = frozenset({ActorKind.manager})
SYSTEM = frozenset({ActorKind.system})

# (state before, action) -> (state after, who may do it). A missing pair is not allowed.
TABLE: dict[tuple[RequestState | None, Action], tuple[RequestState, frozenset[ActorKind]]] = {
    (None, Action.file): (S.submitted, CUSTOMER),
    (S.submitted, Action.claim): (S.in_review, SUPPORT),
    # The system assigns too: fair assignment's round robin (requests/auto_assign.py).
    (S.submitted, Action.assign): (S.in_review, MANAGER | SYSTEM),
    # Fair assignment gives back the work of an assignee who went away or off shift.
    (S.in_review, Action.release): (S.submitted, SYSTEM),
    (S.in_review, Action.assign): (S.in_review, MANAGER),
    (S.awaiting_customer, Action.assign): (S.awaiting_customer, MANAGER),
    (S.in_review, Action.ask): (S.awaiting_customer, SUPPORT),
    (S.awaiting_customer, Action.answer): (S.in_review, CUSTOMER),
    (S.awaiting_customer, Action.warn): (S.awaiting_customer, SYSTEM),
    (S.awaiting_customer, Action.close): (S.closed_no_response, SYSTEM),
    (S.in_review, Action.approve): (S.approved, SUPPORT),
    # Four-eyes approval (second_review.py): above the threshold the first approval waits
    # for a second support user, who confirms (applies) or returns it to review.
    (S.in_review, Action.approve_first): (S.pending_second_review, SUPPORT),
    (S.pending_second_review, Action.confirm): (S.approved, SUPPORT),
    (S.pending_second_review, Action.send_back): (S.in_review, SUPPORT),
    (S.in_review, Action.reject): (S.rejected, SUPPORT),
    **{(s, Action.withdraw): (S.withdrawn, CUSTOMER) for s in OPEN_STATES},
    # Notes never change the state and stay possible after the decision (e.g. a phone call).
    **{(s, Action.note): (s, SUPPORT) for s in RequestState},
}
WHO: dict[Action, frozenset[ActorKind]] = {
    action: frozenset().union(*(who for (_, a), (_, who) in TABLE.items() if a is action))
    for action in Action
}


def check_action(state: RequestState | None, action: Action, actor_kind: ActorKind) -> RequestState:
    """The state `action` leads to; NotAllowed for the wrong role, InvalidTransition otherwise."""
    if actor_kind not in WHO[action]:
        raise NotAllowed(f"a {actor_kind.title.lower()} cannot {action.title} a request")
    entry = TABLE.get((state, action))
    if entry is None:
        if state is None:
            raise InvalidTransition(f"cannot {action.title} a request that was never filed")
        if action is Action.file:
            raise InvalidTransition("this request is filed already")
        raise InvalidTransition(f"cannot {action.title} a request that is {_said(state)}")
    new_state, who = entry
    if actor_kind not in who:
        raise NotAllowed(f"a {actor_kind.title.lower()} cannot {action.title} this request now")
    return new_state


def _said(state: RequestState) -> str:
    return {
        S.submitted: "not claimed yet",
        S.in_review: "in review",
        S.pending_second_review: "waiting for a second review",
        S.awaiting_customer: "waiting for the customer's answer",
        S.approved: "already approved",
        S.rejected: "already rejected",
        S.withdrawn: "withdrawn",
        S.closed_no_response: "closed for lack of an answer",
    }[state]


def lock_request(session: Session, request_id: int) -> ConsentRequest:
    """The request, freshly read and row-locked until the transaction ends (PostgreSQL)."""
    req = session.scalar(
        sa.select(ConsentRequest)
        .where(ConsentRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if req is None:
        raise NotFound(f"request {request_id} does not exist")
    return req


def require_owner(session: Session, req: ConsentRequest, actor: Actor) -> None:
    """Customers act only on their own account's requests (NotFound, as if it did not exist)."""
    if actor.kind is not ActorKind.customer:
        return
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None or user.account_id != req.account_id:
        raise NotFound(f"request {req.id} does not exist")


def is_handler(req: ConsentRequest, actor: Actor) -> bool:
    """The actor handles the request: a manager, or the support user it is assigned to."""
    return actor.kind is ActorKind.manager or req.assignee_id == actor.user_id


def require_handler(session: Session, req: ConsentRequest, actor: Actor) -> None:
    """Only the assignee (or a manager) asks, approves or rejects a claimed request."""
    if is_handler(req, actor):
        return
    holder = session.get(User, req.assignee_id) if req.assignee_id else None
    who = holder.display_name if holder else "nobody"
    raise NotAllowed(f"{req.number} is assigned to {who}; a manager can reassign it")


# Actions on a claimed request that only its handler takes (require_handler).
HANDLER_ACTIONS = frozenset({Action.ask, Action.approve, Action.approve_first, Action.reject})
# Actions of the second review, never taken by the first approver (is_second_reviewer).
SECOND_REVIEW_ACTIONS = frozenset({Action.confirm, Action.send_back})


def is_second_reviewer(req: ConsentRequest, actor: Actor) -> bool:
    """The actor may be the second pair of eyes: support, and not the first approver."""
    return actor.kind in SUPPORT and actor.user_id != req.first_approved_by_id


def has_role_for(action: Action, actor: Actor) -> bool:
    """The actor's role may take `action` on some request (whatever its state now)."""
    return actor.kind in WHO[action]


def can(req: ConsentRequest, action: Action, actor: Actor) -> bool:
    """The actor may take `action` on `req` now: the table allows it, and it is the handler."""
    entry = TABLE.get((req.state, action))
    if entry is None or actor.kind not in entry[1]:
        return False
    if action in SECOND_REVIEW_ACTIONS:
        return is_second_reviewer(req, actor)
    return action not in HANDLER_ACTIONS or is_handler(req, actor)


def allowed_actions(req: ConsentRequest, actor: Actor) -> frozenset[Action]:
    """Everything the actor may do to `req` now (what a page offers them)."""
    return frozenset(action for action in Action if can(req, action, actor))


def can_claim(req: ConsentRequest, actor: Actor) -> bool:
    """The actor may claim the request for review."""
    return can(req, Action.claim, actor)


def can_decide(req: ConsentRequest, actor: Actor) -> bool:
    """The actor may approve or reject the request (and ask its customer) now."""
    return can(req, Action.approve, actor)


def can_reassign(req: ConsentRequest, actor: Actor) -> bool:
    """The actor may give the request to another support user."""
    return can(req, Action.assign, actor)


def lock_for(
    session: Session,
    req: ConsentRequest,
    action: Action,
    actor: Actor,
    require: Callable[[Session, ConsentRequest, Actor], None] = require_handler,
) -> ConsentRequest:
    """The request row-locked, once the table allows `actor` to take `action` on it and
    `require` says it is theirs to take: its handler's by default, or (second review) another
    agent's than the first approver (`second_review.require_second_reviewer`)."""
    req = lock_request(session, req.id)
    check_action(req.state, action, actor.kind)
    require(session, req, actor)
    return req


def transition(
    session: Session,
    req: ConsentRequest,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    body: str = "",
    is_internal: bool = False,
    assignee_id: int | None = None,
    values: dict | None = None,
    where: tuple = (),
) -> RequestEvent:
    """Move `req` by `action` with a conditional UPDATE and append its timeline event.

    `assignee_id`: the request's new handler, set on the row and named by the event alike.
    """
    source = req.state
    target = check_action(source, action, actor.kind)
    values = dict(values or {})
    if assignee_id is not None:
        values["assignee_id"] = assignee_id
    moved = session.execute(
        sa.update(ConsentRequest)
        .where(ConsentRequest.id == req.id, ConsentRequest.state == source, *where)
        .values(state=target, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(f"{req.number} was changed by someone else meanwhile; nothing was done")
    event = RequestEvent(
        request_id=req.id,
        kind=EVENT_OF[action],
        created_at=now,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        from_state=source,
        to_state=target,
        assignee_id=assignee_id,
        body=body,
        is_internal=is_internal,
    )
    session.add(event)
    session.flush()
    if moves_clock(event):  # a question, an answer or an end: the stored clock follows
        refresh_clocks_of(session, [req.id])
    session.refresh(req)
    webhooks.request_moved(session, req, event, now)
    return event


EVENT_OF = {
    Action.file: RequestEventKind.filed,
    Action.claim: RequestEventKind.claimed,
    Action.assign: RequestEventKind.assigned,
    Action.release: RequestEventKind.assigned,  # to nobody: back in the pool
    Action.ask: RequestEventKind.question,
    Action.answer: RequestEventKind.answer,
    Action.note: RequestEventKind.note,
    Action.warn: RequestEventKind.warned,
    Action.approve: RequestEventKind.approved,
    Action.approve_first: RequestEventKind.first_approval,
    Action.confirm: RequestEventKind.approved,
    Action.send_back: RequestEventKind.returned,
    Action.reject: RequestEventKind.rejected,
    Action.withdraw: RequestEventKind.withdrawn,
    Action.close: RequestEventKind.closed,
}


def message_text(text: str, field: str, what: str) -> str:
    body = (text or "").strip()
    if not body:
        raise ValidationError(field, f"write {what}")
    if len(body) > MAX_MESSAGE:
        raise ValidationError(field, f"keep it under {MAX_MESSAGE} characters")
    return body


def claim_request(session: Session, req: ConsentRequest, actor: Actor, now: datetime) -> None:
    """Take an unclaimed request for review; if another agent was first, raise Conflict."""
    req = lock_request(session, req.id)
    if req.state is S.in_review and req.assignee_id is not None:
        holder = session.get(User, req.assignee_id)
        if req.assignee_id == actor.user_id:
            raise InvalidTransition(f"you already claimed {req.number}")
        raise Conflict(f"{holder.display_name} claimed {req.number} first")
    try:
        transition(
            session,
            req,
            Action.claim,
            actor,
            now,
            assignee_id=actor.user_id,
            where=(ConsentRequest.assignee_id.is_(None),),
        )
    except Conflict:
        session.refresh(req)
        holder = session.get(User, req.assignee_id) if req.assignee_id else None
        who = holder.display_name if holder else "someone else"
        raise Conflict(f"{who} claimed {req.number} first") from None


def assign_request(
    session: Session,
    req: ConsentRequest,
    assignee: User,
    actor: Actor,
    now: datetime,
    *,
    body: str = "",
) -> None:
    """A manager (or round robin) gives the request to a support user (a submitted request
    goes in review); `body` says why on the timeline."""
    req = lock_request(session, req.id)
    if assignee.role not in (Role.agent, Role.manager) or not assignee.is_active:
        raise ValidationError("assignee", "choose an active agent or manager")
    if assignee.id == req.assignee_id:
        raise ValidationError("assignee", f"{req.number} is already assigned to them")
    transition(session, req, Action.assign, actor, now, assignee_id=assignee.id, body=body)


def ask_customer(
    session: Session,
    req: ConsentRequest,
    question: str,
    actor: Actor,
    now: datetime,
    *,
    base_url: str,
) -> None:
    """Ask the customer for more information; the clock pauses until they answer."""
    req = lock_for(session, req, Action.ask, actor)
    body = message_text(question, "question", "the question for the customer")
    transition(session, req, Action.ask, actor, now, body=body)
    notifications.notify_question(session, req, body, now, base_url)


def answer_question(
    session: Session,
    req: ConsentRequest,
    answer: str,
    actor: Actor,
    now: datetime,
    *,
    base_url: str,
) -> None:
    """The customer answers support's question; the request goes back in review."""
    req = lock_request(session, req.id)
    require_owner(session, req, actor)
    body = message_text(answer, "answer", "your answer")
    transition(session, req, Action.answer, actor, now, body=body)
    notifications.notify_answer(session, req, body, now, base_url)


def add_internal_note(
    session: Session, req: ConsentRequest, note: str, actor: Actor, now: datetime
) -> None:
    """A note for support only; the customer never sees it."""
    req = lock_request(session, req.id)
    body = message_text(note, "note", "the note")
    transition(session, req, Action.note, actor, now, body=body, is_internal=True)


def reject_request(
    session: Session,
    req: ConsentRequest,
    reason: RejectReason,
    message: str,
    actor: Actor,
    now: datetime,
    *,
    base_url: str,
) -> None:
    """Reject with a reason from the list and a message the customer reads."""
    req = lock_for(session, req, Action.reject, actor)
    if not isinstance(reason, RejectReason):
        raise ValidationError("reason", "choose a reason from the list")
    body = message_text(message, "message", "a message that explains the decision to the customer")
    values = {
        "decided_at": now,
        "decided_by_id": actor.user_id,
        "reject_reason": reason,
        "decision_message": body,
    }
    transition(session, req, Action.reject, actor, now, body=body, values=values)
    notifications.notify_decision(session, req, now, base_url)
    webhooks.request_decided(session, req, now)


def withdraw_request(session: Session, req: ConsentRequest, actor: Actor, now: datetime) -> None:
    """The customer takes the request back before a decision."""
    req = lock_request(session, req.id)
    require_owner(session, req, actor)
    transition(session, req, Action.withdraw, actor, now)


def warn_unanswered(session: Session, req: ConsentRequest, now: datetime, *, base_url: str) -> None:
    """The scheduler reminds the customer that an unanswered request will be closed."""
    req = lock_request(session, req.id)
    transition(session, req, Action.warn, Actor(ActorKind.system), now)
    notifications.notify_closing_soon(session, req, now, base_url)


def close_unanswered(
    session: Session, req: ConsentRequest, now: datetime, *, base_url: str
) -> None:
    """The scheduler closes a request left waiting for the customer too long."""
    req = lock_request(session, req.id)
    transition(session, req, Action.close, Actor(ActorKind.system), now)
    notifications.notify_decision(session, req, now, base_url)
