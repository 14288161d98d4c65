"""The request state machine (DOMAIN.md: Requests): which action leads where, and who may take it.

`TABLE` is the one rule book: (state, action) → (new state, who may do it). `check_action`
asks it for every move; `EVENT_OF` names the timeline event each action appends. Who may act
on one particular request now (its handler, its second reviewer) is `access`; the
operations that move a request are `lifecycle`.
"""

from __future__ import annotations

from ..enums import TitledEnum
from ..errors import DomainError, InvalidTransition
from ..models import RequestEventKind, RequestState
from ..models.requests import OPEN_STATES
from ..statuses import ActorKind

S = RequestState


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
