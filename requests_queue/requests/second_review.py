"""Four-eyes approval (issue 15): a big request's approval waits for a second support user.

Above the threshold a manager sets (`ApprovalSettings`, default 10,000 addresses, compared with
the addresses frozen at filing), the handler's approval moves the request to
`pending_second_review` and applies nothing (`approval.approve_request`). Another support user,
never the first approver and never anyone of the filing customer's account, then confirms it,
which applies it exactly as an approval does, eligibility checked again at that moment
(`approval.confirm_approval`), or returns it to review with a note. The SLA clock keeps running
meanwhile (`sla.engine.RUNNING_STATES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..errors import ValidationError
from ..models import Account, ApprovalSettings, ConsentRequest, RequestState, User
from ..models.approval_settings import DEFAULT_SECOND_REVIEW_THRESHOLD
from ..statuses import Actor
from .access import is_second_reviewer, lock_for
from .lifecycle import message_text, transition
from .state_machine import Action, NotAllowed

MAX_THRESHOLD = 100_000_000  # more addresses than any account holds: "never ask"


def second_review_threshold(session: Session) -> int:
    """Requests of more addresses than this need a second review (the stored setting)."""
    stored = session.scalar(
        sa.select(ApprovalSettings.second_review_threshold).where(ApprovalSettings.id == 1)
    )
    return DEFAULT_SECOND_REVIEW_THRESHOLD if stored is None else stored


def needs_second_review(session: Session, req: ConsentRequest) -> bool:
    """The request is bigger than the threshold, so one approval alone does not apply it."""
    return req.address_count > second_review_threshold(session)


def set_second_review_threshold(
    session: Session, value: object, actor: Actor, now: datetime
) -> int:
    """A manager sets the threshold; it applies to approvals from now on (requests already
    waiting for a second review keep waiting). Returns the stored value."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("threshold", "enter a whole number of addresses")
    if not 0 <= value <= MAX_THRESHOLD:
        raise ValidationError("threshold", f"enter a number from 0 to {MAX_THRESHOLD:,}")
    settings = session.get(ApprovalSettings, 1) or ApprovalSettings(id=1)
    settings.second_review_threshold = value
    settings.updated_at = now
    settings.updated_by_id = actor.user_id
    session.add(settings)
    session.flush()
    return value


def require_second_reviewer(session: Session, req: ConsentRequest, actor: Actor) -> None:
    """Only support, not the first approver and nobody of the customer's account, confirms
    or returns an approval waiting for a second review."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None or user.account_id is not None or not is_second_reviewer(req, actor):
        if user is not None and user.id == req.first_approved_by_id:
            raise NotAllowed(f"you approved {req.number} first; another agent must confirm it")
        raise NotAllowed(f"only another support agent can review the approval of {req.number}")


def return_to_review(
    session: Session, req: ConsentRequest, note: str, actor: Actor, now: datetime
) -> None:
    """The second reviewer sends the approval back to its first stage, with a note why."""
    req = lock_for(session, req, Action.send_back, actor, require_second_reviewer)
    body = message_text(note, "note", "a note that says what needs another look")
    values = {"first_approved_by_id": None, "first_approved_at": None, "checklist": []}
    transition(
        session, req, Action.send_back, actor, now, body=body, is_internal=True, values=values
    )


@dataclass(frozen=True, slots=True)
class WaitingRow:
    """One request waiting for a second review, as the dashboard lists it."""

    id: int
    account: str
    address_count: int
    first_approver: str
    first_approved_at: datetime

    @property
    def number(self) -> str:
        """How people name the request."""
        return f"R-{self.id:06d}"


def waiting_for_second_review(session: Session, limit: int = 50) -> tuple[int, list[WaitingRow]]:
    """(how many, the longest-waiting `limit`) requests pending a second review."""
    pending = ConsentRequest.state == RequestState.pending_second_review
    total = session.scalar(sa.select(sa.func.count()).where(pending))
    first = aliased(User)
    rows = session.execute(
        sa.select(
            ConsentRequest.id,
            Account.name,
            ConsentRequest.address_count,
            sa.func.coalesce(sa.func.nullif(first.name, ""), first.email),
            ConsentRequest.first_approved_at,
        )
        .join(Account, Account.id == ConsentRequest.account_id)
        .join(first, first.id == ConsentRequest.first_approved_by_id)
        .where(pending)
        .order_by(ConsentRequest.first_approved_at, ConsentRequest.id)
        .limit(limit)
    ).all()
    return total, [WaitingRow(*row) for row in rows]
