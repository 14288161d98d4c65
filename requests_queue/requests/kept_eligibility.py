"""A request's eligibility now, kept up to date rather than counted whole on every page.

An agent sees how many frozen addresses approving would change, and why the rest would not,
on the review page, on the first press of Approve (the count they confirm) and while the
request awaits a second agent. Counting a million frozen addresses takes 0.4–0.6 s (issue 11
§1). Instead the freeze keeps the count at its end, as of a status event id (the
*watermark*), and a page adds the changes since: an address whose status changed after the
watermark moves from its reason then (its status before its first event after the
watermark, and for an undo its latest batch then) to its reason now. The rule is the one the
approval applies (`targets.request_reason`), evaluated on then's columns and now's.

The watermark is exact because every status writer holds the account's write lock
(`status_changes.lock_account`) until it commits. Whoever keeps a count holds that lock too,
so no status change of the account is in flight: its events up to the newest id are all
committed and none after it can appear until the count is stored. A page takes no lock; it
reads the changes in one statement, so its figure is the account as one snapshot saw it. A
page first reads the account's `status_changed_through` (set by the same writers): when
nothing changed since the watermark it reads no event at all, however many other accounts
wrote since.

The `keep_eligibility` job moves every open request's kept count forward each minute, so a
page's share stays small. A page that finds more than `CHANGES_MAX` changes since (a mass
opt-out of the account has just run) counts whole, as before; so does a request frozen
before counts were kept, until the job has kept its count.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..models import (
    Account,
    ConsentRequest,
    EmailAddress,
    FreezeState,
    RequestAddress,
    RequestFreeze,
    RequestKind,
    StatusEvent,
)
from ..models.requests import OPEN_STATES
from ..status_changes import lock_account
from .targets import (
    SelectionSummary,
    _summary,
    eligibility_now,
    latest_batch_of_address,
    request_reason,
)

CHANGES_MAX = 20_000  # status events since the watermark a page adds up itself

Counts = dict[str | None, int]


def _counts(summary: SelectionSummary) -> Counts:
    return {None: summary.eligible, **summary.skipped_by_reason}


def _kept(freeze: RequestFreeze) -> Counts:
    return {reason: n for reason, n in freeze.eligibility}


def _store(freeze: RequestFreeze, counts: Counts, through: int) -> None:
    freeze.eligibility = [[reason, n] for reason, n in counts.items() if n]
    freeze.eligibility_through = through


def _newest_event(session: Session) -> int:
    return session.scalar(sa.select(sa.func.max(StatusEvent.id))) or 0


def _events_since(account_id: int, through: int) -> sa.Select:
    return sa.select(StatusEvent.id).where(
        StatusEvent.id > through, StatusEvent.account_id == account_id
    )


def _changed_since(session: Session, account_id: int, through: int) -> bool:
    """Whether any status of the account may have changed after event `through`: one row
    (`Account.status_changed_through`), not a scan of everything written since."""
    marked = session.scalar(
        sa.select(Account.status_changed_through).where(Account.id == account_id)
    )
    return marked > through


def _too_many_since(session: Session, account_id: int, through: int) -> bool:
    """More than CHANGES_MAX status events of the account after `through`."""
    some = _events_since(account_id, through).limit(CHANGES_MAX + 1).subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(some)) > CHANGES_MAX


def _moves_since(session: Session, req: ConsentRequest, through: int) -> dict[tuple, int]:
    """(reason then, reason now) → how many of the request's addresses changed status after
    event `through`, in one statement (one snapshot)."""
    changed = (
        sa.select(StatusEvent.address_id, sa.func.min(StatusEvent.id).label("first_id"))
        .join(
            RequestAddress,
            sa.and_(
                RequestAddress.request_id == req.id,
                RequestAddress.address_id == StatusEvent.address_id,
            ),
        )
        .where(StatusEvent.id > through, StatusEvent.account_id == req.account_id)
        .group_by(StatusEvent.address_id)
        .subquery()
    )
    first = aliased(StatusEvent)  # its from_status is the address's status at the watermark
    undo = req.kind is RequestKind.undo_opt_out
    then = request_reason(
        req,
        first.from_status,
        latest_batch_of_address(changed.c.address_id, through) if undo else None,
    )
    moves = (
        sa.select(then.label("then"), request_reason(req).label("now"))
        .select_from(changed)
        .join(first, first.id == changed.c.first_id)
        .join(EmailAddress, EmailAddress.id == changed.c.address_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(moves.c.then, moves.c.now, sa.func.count()).group_by(moves.c.then, moves.c.now)
    )
    return {(then_, now_): n for then_, now_, n in rows}


def _moved(counts: Counts, moves: dict[tuple, int]) -> Counts:
    counts = dict(counts)
    for (then, now), n in moves.items():
        counts[then] = counts.get(then, 0) - n
        counts[now] = counts.get(now, 0) + n
    return counts


def keep(session: Session, req: ConsentRequest, freeze: RequestFreeze) -> SelectionSummary:
    """Count the selection whole and keep the count as of the newest status event. The
    caller holds the account's lock (the freeze's last chunk does)."""
    through = _newest_event(session)
    summary = eligibility_now(session, req)
    _store(freeze, _counts(summary), through)
    return summary


def refresh(session: Session, req: ConsentRequest, freeze: RequestFreeze) -> bool:
    """Move the kept count forward to the newest status event, taking the account's lock
    (released when the caller commits); True when it was moved."""
    lock_account(session, req.account_id)
    through = _newest_event(session)
    if freeze.eligibility is None or _too_many_since(
        session, req.account_id, freeze.eligibility_through
    ):
        keep(session, req, freeze)
        return True
    if through == freeze.eligibility_through:
        return False
    if _changed_since(session, req.account_id, freeze.eligibility_through):
        moves = _moves_since(session, req, freeze.eligibility_through)
        _store(freeze, _moved(_kept(freeze), moves), through)
    else:
        freeze.eligibility_through = through
    return True


def eligibility(session: Session, req: ConsentRequest) -> SelectionSummary:
    """The frozen selection as approval would see it at this moment: the kept count plus the
    changes since, or counted whole when there is no kept count or too much has changed."""
    freeze = session.get(RequestFreeze, req.id)
    if freeze is None or freeze.eligibility is None:
        return eligibility_now(session, req)
    through = freeze.eligibility_through
    if not _changed_since(session, req.account_id, through):
        return _summary(_kept(freeze))
    if _too_many_since(session, req.account_id, through):
        return eligibility_now(session, req)
    return _summary(_moved(_kept(freeze), _moves_since(session, req, through)))


def refresh_open(session: Session) -> int:
    """Move forward the kept count of every open request whose selection is recorded, one
    request per transaction (the account's lock is held only for its own); how many moved."""
    ids = session.scalars(
        sa.select(ConsentRequest.id)
        .join(RequestFreeze, RequestFreeze.id == ConsentRequest.id)
        .where(ConsentRequest.state.in_(OPEN_STATES), RequestFreeze.state == FreezeState.done)
        .order_by(ConsentRequest.id)
    ).all()
    session.commit()
    moved = 0
    for request_id in ids:
        req = session.get(ConsentRequest, request_id)
        freeze = session.get(RequestFreeze, request_id)
        moved += refresh(session, req, freeze)
        session.commit()
    return moved
