"""Recording a filed request's selection (its frozen addresses), a chunk at a time.

Filing (`filing.file_request`) records the request and a `RequestFreeze` row: the selection
as it stood at the click (an opt-in's filter and fields with the newest contact and address
then; an undo's batch). `freeze_chunk` then records the next chunk of eligible addresses in
address-id order from the cursor, each judged eligible as its chunk reaches it; contacts and
addresses added after the filing are never recorded. The last chunk sets the request's
`address_count` to the number recorded (until then it is the count eligible at filing, which
the customer's email and the `request.filed` webhook, sent by the filing itself so that they
come before anything else that happens to the request, say).

A selection of up to `inline_max` eligible addresses is frozen in the filing's own
transaction (all chunks, no commit in between), exactly as before; a larger one by
`run_freeze` in the background, each chunk committed, through the shared chunked-run
machinery (`chunked`), resumed by the request's page or the scheduler's `resume_freezes`
job if its run dies. Until it is done the request cannot be approved (`require_frozen`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..chunked import ChunkedRuns
from ..errors import ValidationError
from ..models import ConsentRequest, FreezeState, RequestFreeze, RequestKind
from ..now import now_utc
from ..selection import stored_selection
from ..status_changes import lock_account
from . import kept_eligibility
from .targets import OptInTarget, Target, UndoTarget

CHUNK_ADDRESSES = 50_000  # addresses recorded per chunk (one transaction each in the background)
RUNS = ChunkedRuns(
    RequestFreeze,
    working=FreezeState.freezing,
    failed=FreezeState.failed,
    kind="freeze",
    failure=(
        "Recording the selection stopped because of an internal error; the request cannot be "
        "approved. Support has the details in the log."
    ),
)
STILL_FREEZING = "the selection is still being recorded; approve it once it is"


def record_freeze(
    session: Session, req: ConsentRequest, target: Target, expected: int, now: datetime
) -> RequestFreeze:
    """The selection to freeze for the just-filed request, as it stands now; flush only."""
    freeze = RequestFreeze(
        id=req.id,
        state=FreezeState.freezing,
        created_at=now,
        expected_count=expected,
        **target.frozen_selection(session),
    )
    session.add(freeze)
    session.flush()
    return freeze


def freeze_of(session: Session, req: ConsentRequest) -> RequestFreeze | None:
    """The request's freeze (None for one filed before freezes were recorded); read afresh,
    as a background run moves it on while the caller's session may hold an old copy."""
    return session.get(RequestFreeze, req.id, populate_existing=True)


def is_freezing(session: Session, req: ConsentRequest) -> bool:
    """Filed, and its selection is still being recorded in the background."""
    freeze = freeze_of(session, req)
    return freeze is not None and freeze.state is FreezeState.freezing


def require_frozen(session: Session, req: ConsentRequest) -> None:
    """Refuse an approval before the request's addresses are all recorded."""
    freeze = freeze_of(session, req)
    if freeze is None or freeze.state is FreezeState.done:
        return
    if freeze.state is FreezeState.freezing:
        raise ValidationError(None, STILL_FREEZING)
    raise ValidationError(
        None,
        "recording the selection stopped, so the request cannot be approved: reject it and "
        "ask the customer to file it again",
    )


def _target(req: ConsentRequest, freeze: RequestFreeze) -> Target:
    """The target as filed, from the freeze's row."""
    if req.kind is RequestKind.undo_opt_out:
        return UndoTarget(req.account_id, req.mass_action_id)
    return OptInTarget(*stored_selection(req.account_id, freeze.selection_filter, freeze.fields))


def freeze_chunk(
    session: Session,
    freeze: RequestFreeze,
    now: datetime,
    limit: int = CHUNK_ADDRESSES,
) -> bool:
    """Record the next `limit` addresses of the selection; flush only. True when done (the
    last chunk sets the request's `address_count` to the number recorded)."""
    if freeze.state is not FreezeState.freezing:
        return True
    req = session.get(ConsentRequest, freeze.id)
    lock_account(session, req.account_id)
    RUNS.beat(session, freeze, now)  # the loaded row keeps the beat for the next chunk
    if freeze.frozen_through == 0 and freeze.frozen_count == 0:
        kept_eligibility.begin_freeze(session, freeze)
    frozen, end = _target(req, freeze).freeze_chunk(session, req.id, freeze, limit)
    freeze.frozen_count += frozen
    if end is None:
        freeze.state, freeze.finished_at = FreezeState.done, now
        req.address_count = freeze.frozen_count
        session.flush()
        kept = kept_eligibility.of_request(req)
        kept_eligibility.keep_frozen(session, kept, freeze, freeze.frozen_count)  # locked above
    else:
        freeze.frozen_through = end
    session.flush()
    return freeze.state is FreezeState.done


def is_stalled(freeze: RequestFreeze, now: datetime) -> bool:
    """Still being recorded, but its run has been silent for STALE_AFTER (it is resumed)."""
    return RUNS.is_stalled(freeze, now)


def run_freeze(
    engine: sa.Engine,
    request_id: int,
    clock: Callable[[], datetime] = now_utc,
    chunk: int = CHUNK_ADDRESSES,
    stop_after_chunks: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FreezeState | None:
    """Record the request's selection to its end, a committed chunk at a time; its final
    state, or None when another run holds it."""

    def step(session: Session, freeze: RequestFreeze, now: datetime) -> bool:
        return freeze_chunk(session, freeze, now, limit=chunk)

    return RUNS.run(engine, request_id, step, clock, stop_after_chunks, should_stop)


def resume_freezes(
    session: Session, now: datetime, should_stop: Callable[[], bool] | None = None
) -> list[tuple[int, FreezeState | None]]:
    """Resume every freeze whose run died or never started; (request id, final state)."""
    engine = session.get_bind()

    def run_one(rid: int):
        return run_freeze(engine, rid, should_stop=should_stop)

    return RUNS.resume(session, now, run_one, should_stop)
