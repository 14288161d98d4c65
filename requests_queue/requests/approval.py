"""Approving a request: its status changes applied exactly once (DOMAIN.md: Requests).

1. lock the request row and move it in_review → approved with a conditional UPDATE, so a
   second approver (or a double click) finds it approved and changes nothing; record the
   application (`applying.record_application`);
2. apply it (`applying.apply_chunk`): skipped marked with the reason, the rest changed
   through the rule book, the counts stored, the customer told. In this transaction for a
   small request; by a background run, chunk by chunk, for one above `inline_max`.

A request bigger than the second-review threshold is not applied by its first approval: it
waits for another agent's confirmation (`second_review`), which runs the same steps then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..models import ConsentRequest
from ..status_changes import lock_account
from ..statuses import Actor
from .access import lock_for, require_handler
from .applying import apply_chunk, record_application
from .evidence import CHECKLIST, checklist_problem
from .freezing import require_frozen
from .lifecycle import transition
from .second_review import (
    needs_second_review,
    require_second_reviewer,
    second_review_threshold,
)
from .state_machine import Action


def approve_request(
    session: Session,
    req: ConsentRequest,
    actor: Actor,
    now: datetime,
    *,
    checklist: Iterable[str],
    base_url: str,
    action: Action = Action.approve,
    inline_max: int | None = None,
) -> ConsentRequest:
    """Approve and apply; raise InvalidTransition if it is not in review (e.g. approved already).

    A request of more than `inline_max` addresses is only decided here: its changes are
    applied by a background run (`applying.run_approval`), and it reads "applying" until
    then. None (the default) applies it whole in this transaction.

    Above the second-review threshold nothing is applied yet: the request waits for another
    agent's confirmation, this with `action=Action.confirm` (`confirm_approval`): applied
    exactly as an approval is, with eligibility checked again now. Never the first approver,
    never the customer's side."""
    confirming = action is Action.confirm
    req = lock_for(
        session, req, action, actor, require_second_reviewer if confirming else require_handler
    )
    require_frozen(session, req)  # its addresses are all recorded (`freezing`)
    ticked = _checked(checklist)
    if not confirming and needs_second_review(session, req):
        threshold = second_review_threshold(session)
        values = {
            "first_approved_by_id": actor.user_id,
            "first_approved_at": now,
            "checklist": ticked,
        }
        body = (
            f"Second review needed: {req.address_count:,} in the selection, the threshold is "
            f"{threshold:,}. Nothing changes until another agent confirms."
        )
        transition(
            session,
            req,
            Action.approve_first,
            actor,
            now,
            body=body,
            is_internal=True,
            values=values,
        )
        return req
    return _approve_and_apply(session, req, action, actor, now, ticked, base_url, inline_max)


# The second agent confirms a first approval: the same operation, the second review's rules.
confirm_approval = partial(approve_request, action=Action.confirm)


def _checked(checklist: Iterable[str]) -> list[str]:
    """The ticked evidence items in checklist order; every one must be ticked."""
    ticked = [key for key, _ in CHECKLIST if key in set(checklist)]
    problem = checklist_problem(ticked)
    if problem:
        raise ValidationError("checklist", problem)
    return ticked


def _approve_and_apply(
    session: Session,
    req: ConsentRequest,
    action: Action,
    actor: Actor,
    now: datetime,
    ticked: list[str],
    base_url: str,
    inline_max: int | None,
) -> ConsentRequest:
    """Move the locked request to approved by `action` and record the application; apply it
    now when it has at most `inline_max` addresses (None: whatever its size)."""
    # Before anything is judged eligible: an unsubscribe committing between the check and
    # the changes would otherwise fail the whole approval with a Conflict.
    lock_account(session, req.account_id)
    transition(
        session,
        req,
        action,
        actor,
        now,
        values={"decided_at": now, "decided_by_id": actor.user_id, "checklist": ticked},
    )
    application = record_application(session, req, actor, now)
    if inline_max is None or req.address_count <= inline_max:
        while not apply_chunk(session, application, now, base_url):
            pass
    return req
