"""The operations that move a request (DOMAIN.md: Requests): claim, assign, ask, answer, note,
reject, withdraw, and the scheduler's warn and close.

Each one checks the move (`state_machine.check_action`, and `access` for who may act on
this request), then `transition` moves the request with a conditional UPDATE
(`… WHERE state = <the state it checked>`) so two people acting at once cannot both win,
appends a `RequestEvent` to the timeline, moves the stored SLA clock when the event starts or
stops it (the one place the lifecycle calls `sla.deadlines`), queues its notification and
flushes. The caller commits. Filing lives in `filing`, approval in `approval`, the second
review in `second_review`; all use `transition`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import Conflict, InvalidTransition, ValidationError
from ..models import (
    ConsentRequest,
    RejectReason,
    RequestEvent,
    RequestState,
    Role,
    User,
)
from ..sla.deadlines import moves_clock, refresh_clocks_of
from ..statuses import Actor, ActorKind
from ..webhooks import queueing as webhooks
from . import notifications
from .access import lock_for, lock_request, require_owner
from .state_machine import EVENT_OF, Action, check_action

MAX_MESSAGE = 5000


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
    if req.state is RequestState.in_review and req.assignee_id is not None:
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
