"""Applying an approved request's status changes, a chunk of its frozen addresses at a time.

The approval (`approval.approve_request`) decides: the request moves to approved at the
agent's click, and a `RequestApplication` row records the decision. `apply_chunk` then does,
for the next chunk of the frozen addresses in address-id order:
1. mark those no longer eligible as skipped, with the reason (before any change, so
   change_many's candidates are simply "not skipped");
2. apply the change through `change_many` (the rule book, one event per address naming the
   request and the agent, at the decision's time) to the rest;
3. mark the rest changed; the rules refusing one the eligibility check let through is a
   Conflict, and the chunk changes nothing.
After the last chunk the request gets its counts, and the customer's email and the
`request.decided` webhook go out: they say what was done, so they wait for it.

A small request is applied in the approval's own transaction (all chunks, no commit in
between); a large one by `run_approval` in the background, each chunk committed, through the
shared chunked-run machinery (`chunked`), resumed by the request's page or the scheduler's
`resume_approvals` job if its run dies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..chunked import ChunkedRuns
from ..errors import Conflict
from ..models import (
    AddressOutcome,
    ApplyState,
    ConsentRequest,
    EmailAddress,
    RequestAddress,
    RequestApplication,
    RequestKind,
)
from ..now import now_utc
from ..planner_stats import analyze_after_bulk
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
from .targets import (
    is_eligible_for_opt_in,
    opt_in_skip_reason,
    still_from_batch,
    undo_skip_reason,
)

S = EmailStatus
CHUNK_ADDRESSES = 50_000  # frozen addresses per chunk (one transaction each in the background)
RUNS = ChunkedRuns(
    RequestApplication,
    working=ApplyState.applying,
    failed=ApplyState.failed,
    kind="approval",
    failure=(
        "Applying the approval stopped because of an internal error; the addresses marked "
        "changed were changed. Support has the details in the log."
    ),
)
STALE_AFTER = RUNS.stale_after


def record_application(
    session: Session, req: ConsentRequest, actor: Actor, now: datetime
) -> RequestApplication:
    """The decision to apply the approved request's changes; flush only."""
    application = RequestApplication(
        id=req.id,
        state=ApplyState.applying,
        created_at=now,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        channel=actor.channel,
    )
    session.add(application)
    session.flush()
    return application


def application_of(session: Session, req: ConsentRequest) -> RequestApplication | None:
    """The request's application, if it was approved since applications are recorded; read
    afresh (a background run moves it on while the caller's session may hold an old copy)."""
    return session.get(RequestApplication, req.id, populate_existing=True)


def is_applying(session: Session, req: ConsentRequest) -> bool:
    """Approved, and its changes are still being applied in the background."""
    application = application_of(session, req)
    return application is not None and application.state is ApplyState.applying


def apply_chunk(
    session: Session,
    application: RequestApplication,
    now: datetime,
    base_url: str,
    limit: int = CHUNK_ADDRESSES,
) -> bool:
    """Apply the next `limit` frozen addresses (steps 1–3); flush only. True when done."""
    if application.state is not ApplyState.applying:
        return True
    req = session.get(ConsentRequest, application.id)
    lock_account(session, req.account_id)
    RUNS.beat(session, application, now)
    ra = RequestAddress
    through = application.applied_through
    end = session.scalar(
        sa.select(ra.address_id)
        .where(ra.request_id == req.id, ra.address_id > through)
        .order_by(ra.address_id)
        .offset(limit - 1)
        .limit(1)
    )
    in_chunk = [ra.request_id == req.id, ra.address_id > through]
    # The same span on the address table: with it PostgreSQL reads the chunk's addresses along
    # their key; without it, it read the whole address table for every chunk (a hash join),
    # every account's rows, three times per chunk: the skip check, the events, the update
    # (issue 11 §4: plans that hold beside a neighbour).
    first = session.scalar(
        sa.select(sa.func.min(ra.address_id)).where(
            ra.request_id == req.id, ra.address_id > through
        )
    )
    span = [EmailAddress.id >= (first or through)]
    if end is not None:
        in_chunk.append(ra.address_id <= end)
        span.append(EmailAddress.id <= end)
    skipped = _mark_skipped(session, req, in_chunk, span)
    actor = Actor(application.actor_kind, application.actor_user_id, application.channel)
    changed = _apply(session, req, in_chunk, span, actor, application.created_at)
    marked = session.execute(
        sa.update(ra)
        .where(*in_chunk, ra.outcome.is_(None))
        .values(outcome=AddressOutcome.changed)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != changed:  # the rules refused an address the eligibility check let through
        raise Conflict(f"{req.number}: {marked - changed} addresses could not change; nothing done")
    application.processed_count += skipped + changed
    req.changed_count += changed
    if end is None:
        _finish(session, req, application, now, base_url)
    else:
        application.applied_through = end
    session.flush()
    return application.state is ApplyState.done


def _finish(
    session: Session,
    req: ConsentRequest,
    application: RequestApplication,
    now: datetime,
    base_url: str,
) -> None:
    """Every address is done: the counts, then the customer's email and the webhook."""
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
    req.skipped_count = sum(skipped.values())
    req.skipped_by_reason = dict(sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])))
    application.state, application.finished_at = ApplyState.done, now
    session.flush()
    # Every frozen address now has an outcome: the planner learns it, or the pages' samples of
    # each outcome are planned for the few the statistics still think there are. The status
    # changes are analysed here too, once for the whole request: per chunk (`change_many`'s
    # own), a 1,000,000-address approval analysed both tables twenty times.
    analyze_after_bulk(session, ("email_addresses", "status_events"), req.changed_count)
    analyze_after_bulk(session, ("request_addresses",), application.processed_count)
    notifications.notify_decision(session, req, application.created_at, base_url)
    webhooks.request_decided(session, req, application.created_at)


def _mark_skipped(session: Session, req: ConsentRequest, in_chunk: list, span: list) -> int:
    """The chunk's frozen addresses not eligible now become skipped, with the reason, in one
    UPDATE; how many.

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
    not_eligible = sa.exists().where(address, *span, sa.not_(eligible))
    return session.execute(
        sa.update(RequestAddress)
        .where(*in_chunk, not_eligible)
        .values(
            outcome=AddressOutcome.skipped,
            skip_reason=sa.select(reason).where(address).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount


def _apply(
    session: Session,
    req: ConsentRequest,
    in_chunk: list,
    span: list,
    actor: Actor,
    when: datetime,
) -> int:
    """The chunk's status changes, through the rule book; how many addresses changed."""
    frozen = sa.select(RequestAddress.address_id).where(*in_chunk, RequestAddress.outcome.is_(None))

    def pending(*more: sa.ColumnElement[bool]) -> sa.Select:
        """Over the address table itself, so `change_many` merges the span into its WHERE."""
        return sa.select(EmailAddress.id).where(*span, EmailAddress.id.in_(frozen.where(*more)))

    cause = Cause(request_id=req.id)
    if req.kind is RequestKind.mass_opt_in:
        return change_many(
            session,
            req.account_id,
            pending(),
            S.single_opt_in,
            actor,
            when,
            cause,
            only_from=ELIGIBLE_FOR_MASS_OPT_IN,
            analyze=False,  # once at the end (`_finish`), not per chunk
        )
    # Undo: each address goes back to the status the batch recorded, one call per status.
    return sum(
        change_many(
            session,
            req.account_id,
            pending(RequestAddress.prior_status == prior),
            prior,
            actor,
            when,
            cause,
            only_from=UNDOABLE,
            analyze=False,
        )
        for prior in RESTORABLE_BY_UNDO
    )


def is_stalled(application: RequestApplication, now: datetime) -> bool:
    """Still being applied, but its run has been silent for STALE_AFTER (it is resumed)."""
    return RUNS.is_stalled(application, now)


def run_approval(
    engine: sa.Engine,
    request_id: int,
    base_url: str,
    clock: Callable[[], datetime] = now_utc,
    chunk: int = CHUNK_ADDRESSES,
    stop_after_chunks: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ApplyState | None:
    """Apply the approved request to its end, a committed chunk at a time; its final state, or
    None when another run holds it."""

    def step(session: Session, application: RequestApplication, now: datetime) -> bool:
        return apply_chunk(session, application, now, base_url, limit=chunk)

    return RUNS.run(engine, request_id, step, clock, stop_after_chunks, should_stop)


def resume_approvals(
    session: Session,
    now: datetime,
    base_url: str,
    should_stop: Callable[[], bool] | None = None,
) -> list[tuple[int, ApplyState | None]]:
    """Resume every approval whose run died or never started; (request id, final state)."""
    engine = session.get_bind()

    def run_one(rid: int):
        return run_approval(engine, rid, base_url, should_stop=should_stop)

    return RUNS.resume(session, now, run_one, should_stop)
