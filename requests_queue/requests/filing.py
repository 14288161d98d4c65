"""Filing a request: evidence checked, the selection frozen, the customer told (DOMAIN.md).

A selection of more than `inline_max` eligible addresses is only recorded here: its
addresses are frozen by a background run (`freezing.run_freeze`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationError
from ..models import ConsentRequest, RequestEvent, RequestEventKind, RequestState, User
from ..sla.deadlines import start_clock
from ..status_changes import lock_account
from ..statuses import Actor
from ..webhooks import queueing as webhooks
from . import notifications
from .auto_assign import auto_assign
from .evidence import EvidenceInput, check_evidence
from .freezing import freeze_chunk, record_freeze
from .state_machine import Action, check_action
from .targets import OptInTarget, UndoTarget


def file_request(
    session: Session,
    target: OptInTarget | UndoTarget,
    evidence: EvidenceInput,
    actor: Actor,
    now: datetime,
    *,
    base_url: str,
    inline_max: int | None = None,
) -> ConsentRequest:
    """File a mass opt-in or undo request with its evidence.

    Its addresses are frozen now when at most `inline_max` are eligible (None: whatever
    their number); a larger selection is recorded (`RequestFreeze`) and frozen by a
    background run. Either way, what is frozen is the selection at this moment, and the
    customer is told and the webhook queued in this transaction."""
    check_action(None, Action.file, actor.kind)
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None or user.account_id != target.account_id:
        raise NotFound("this selection does not exist")
    checked = check_evidence(evidence, now)
    # Hold the account's writers off so the counts, the frozen rows and the check agree.
    lock_account(session, target.account_id)
    target.check(session)
    expected = target.summary(session).eligible
    if expected == 0:
        raise ValidationError(
            None, "no address in this selection is eligible, so there is nothing to request"
        )
    req = ConsentRequest(
        account_id=target.account_id,
        kind=target.kind,
        state=RequestState.submitted,
        filed_by_id=user.id,
        filed_at=now,
        updated_at=now,
        mass_action_id=target.mass_action_id,
        selection=target.describe(session)[:500],
        fields=target.field_values(session),
        reason=checked.reason,
        last_sent_on=checked.last_sent_on,
        never_sent=checked.never_sent,
        explicit_permission=True,
        permission_details=checked.permission_details,
        form_links=list(checked.form_links),
        list_source=checked.list_source,
        attested=True,
        address_count=expected,  # until the freeze ends with the number it recorded
    )
    start_clock(session, req)
    session.add(req)
    session.flush()
    session.add(
        RequestEvent(
            request_id=req.id,
            kind=RequestEventKind.filed,
            created_at=now,
            actor_kind=actor.kind,
            actor_user_id=actor.user_id,
            from_state=None,
            to_state=RequestState.submitted,
        )
    )
    freeze = record_freeze(session, req, target, expected, now)
    if inline_max is None or expected <= inline_max:
        while not freeze_chunk(session, freeze, now):
            pass
    # Told now, before anything else can happen to the request; while the selection is still
    # being recorded, they name the count eligible at this moment.
    notifications.notify_filed(session, req, now, base_url)
    webhooks.request_filed(session, req, now)
    auto_assign(session, req, now)  # when the manager turned fair assignment on
    return req
