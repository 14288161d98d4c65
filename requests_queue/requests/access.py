"""Who may act on one request now, and the row-locked read every operation starts with.

The state machine (`state_machine.TABLE`) says which role may take an action in a state; this
module adds what depends on the request itself: its owner (customers), its handler (the
assignee or a manager) and its second reviewer (not the first approver). Pages ask
`allowed_actions` / `can_*` what to offer; operations call `lock_for` (or `lock_request` and
`require_owner`) before they move the request.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import ConsentRequest, User
from ..statuses import Actor, ActorKind
from .state_machine import SUPPORT, TABLE, WHO, Action, NotAllowed, check_action


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
