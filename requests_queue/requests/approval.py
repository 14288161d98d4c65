"""Approving a request: its status changes applied at once, exactly once (DOMAIN.md: Requests).

One transaction, set-based whatever the size:
1. lock the request row and move it in_review → approved with a conditional UPDATE, so a
   second approver (or a double click) finds it approved and changes nothing;
2. mark the frozen addresses that are no longer eligible as skipped, with the reason;
3. apply the change through `change_many` (the status rules, one event per address naming
   the request and the agent) to the rest;
4. mark the rest changed and store the counts.

A request bigger than the second-review threshold is not applied by its first approval: it
waits for another agent's confirmation (`second_review`), which runs the same steps then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import Conflict, ValidationError
from ..models import (
    AddressOutcome,
    ConsentRequest,
    EmailAddress,
    RequestAddress,
    RequestKind,
)
from ..status_changes import change_many, lock_account
from ..statuses import (
    ELIGIBLE_FOR_MASS_OPT_IN,
    RESTORABLE_BY_UNDO,
    UNDOABLE,
    Actor,
    Cause,
    EmailStatus,
)
from ..webhooks import queueing as webhooks
from . import notifications
from .access import lock_for, require_handler
from .evidence import CHECKLIST, checklist_problem
from .lifecycle import transition
from .second_review import (
    needs_second_review,
    require_second_reviewer,
    second_review_threshold,
)
from .state_machine import Action
from .targets import (
    is_eligible_for_opt_in,
    opt_in_skip_reason,
    still_from_batch,
    undo_skip_reason,
)

S = EmailStatus


def approve_request(
    session: Session,
    req: ConsentRequest,
    actor: Actor,
    now: datetime,
    *,
    checklist: Iterable[str],
    base_url: str,
    action: Action = Action.approve,
) -> ConsentRequest:
    """Approve and apply; raise InvalidTransition if it is not in review (e.g. approved already).

    Above the second-review threshold nothing is applied yet: the request waits for another
    agent's confirmation, this with `action=Action.confirm` (`confirm_approval`): applied
    exactly as an approval is, with eligibility checked again now. Never the first approver,
    never the customer's side."""
    confirming = action is Action.confirm
    req = lock_for(
        session, req, action, actor, require_second_reviewer if confirming else require_handler
    )
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
    return _approve_and_apply(session, req, action, actor, now, ticked, base_url)


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
) -> ConsentRequest:
    """Move the locked request to approved by `action` and apply its changes (steps 1–4)."""
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
    _mark_skipped(session, req)
    changed = _apply(session, req, actor, now)
    marked = session.execute(
        sa.update(RequestAddress)
        .where(RequestAddress.request_id == req.id, RequestAddress.outcome.is_(None))
        .values(outcome=AddressOutcome.changed)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != changed:  # the rules refused an address the eligibility check let through
        raise Conflict(f"{req.number}: {marked - changed} addresses could not change; nothing done")
    skipped = dict(
        session.execute(
            sa.select(RequestAddress.skip_reason, sa.func.count())
            .where(
                RequestAddress.request_id == req.id,
                RequestAddress.outcome == AddressOutcome.skipped,
            )
            .group_by(RequestAddress.skip_reason)
        ).all()
    )
    req.changed_count = changed
    req.skipped_count = sum(skipped.values())
    req.skipped_by_reason = dict(sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])))
    session.flush()
    notifications.notify_decision(session, req, now, base_url)
    webhooks.request_decided(session, req, now)
    return req


def _mark_skipped(session: Session, req: ConsentRequest) -> None:
    """Frozen addresses not eligible now become skipped, with the reason, in one UPDATE.

    Done BEFORE the changes, so change_many's candidates are simply "not skipped": its
    INSERT and its UPDATE each evaluate the candidate query, and an undo's "latest event is
    the batch's" would turn false between the two once the INSERT has written new events.
    """
    address = EmailAddress.id == RequestAddress.address_id
    if req.kind is RequestKind.undo_opt_out:
        eligible = still_from_batch(req.mass_action_id)
        reason = undo_skip_reason()
    else:
        eligible = is_eligible_for_opt_in()
        reason = opt_in_skip_reason()
    not_eligible = sa.exists().where(address, sa.not_(eligible))
    session.execute(
        sa.update(RequestAddress)
        .where(RequestAddress.request_id == req.id, not_eligible)
        .values(
            outcome=AddressOutcome.skipped,
            skip_reason=sa.select(reason).where(address).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )


def _pending(req: ConsentRequest) -> sa.Select:
    return sa.select(RequestAddress.address_id).where(
        RequestAddress.request_id == req.id, RequestAddress.outcome.is_(None)
    )


def _apply(session: Session, req: ConsentRequest, actor: Actor, now: datetime) -> int:
    """The status changes, through the rule book; return how many addresses changed."""
    cause = Cause(request_id=req.id)
    if req.kind is RequestKind.mass_opt_in:
        return change_many(
            session,
            req.account_id,
            _pending(req),
            S.single_opt_in,
            actor,
            now,
            cause,
            only_from=ELIGIBLE_FOR_MASS_OPT_IN,
        )
    # Undo: each address goes back to the status the batch recorded, one call per status.
    return sum(
        change_many(
            session,
            req.account_id,
            _pending(req).where(RequestAddress.prior_status == prior),
            prior,
            actor,
            now,
            cause,
            only_from=UNDOABLE,
        )
        for prior in RESTORABLE_BY_UNDO
    )
