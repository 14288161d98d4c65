"""Eligibility now, kept up to date rather than counted whole on every page: a filed
request's (what approving it would change) and a mass opt-out's (what an undo would restore).

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

A mass opt-out keeps its undo's count the same way, on its own row, from the end of its run:
the customer's undo form and the filing of the undo read it (`targets.UndoTarget.summary`).

The `keep_eligibility` job moves every open request's and every kept batch's count forward
each minute, when its account changed since, so a page's share stays small. A page that
finds more than `CHANGES_MAX` changes since (a mass opt-out of the account has just run)
counts whole, as before; so does a request frozen, or a batch run, before counts were kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..models import (
    Account,
    ConsentRequest,
    EmailAddress,
    FreezeState,
    MassAction,
    MassActionKind,
    MassActionState,
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
    undo_reason,
)

CHANGES_MAX = 20_000  # status events since the watermark a page adds up itself

Counts = dict[str | None, int]
Holder = RequestFreeze | MassAction  # a row with `eligibility` and `eligibility_through`


@dataclass(frozen=True)
class Kept:
    """What a kept count counts: a set of an account's addresses and the rule for each."""

    account_id: int
    holds: Callable[[sa.ColumnElement], sa.ColumnElement[bool]]  # SQL: the id is one of them
    rule: Callable[..., sa.ColumnElement]  # (status, latest batch or None for now's) → reason
    by_batch: bool  # the rule reads the address's latest batch
    whole: Callable[[Session], SelectionSummary]  # the count made from scratch


def of_request(req: ConsentRequest) -> Kept:
    """A filed request's frozen addresses, under the rule its approval applies."""

    def holds(address_id: sa.ColumnElement) -> sa.ColumnElement[bool]:
        return sa.exists().where(
            RequestAddress.request_id == req.id, RequestAddress.address_id == address_id
        )

    return Kept(
        req.account_id,
        holds,
        lambda status, latest=None: request_reason(req, status, latest),
        req.kind is RequestKind.undo_opt_out,
        lambda session: eligibility_now(session, req),
    )


def of_batch(account_id: int, batch_id: int, whole: Callable[[Session], SelectionSummary]) -> Kept:
    """A mass opt-out's changed addresses, under the rule its undo applies."""
    own = aliased(StatusEvent)

    def holds(address_id: sa.ColumnElement) -> sa.ColumnElement[bool]:
        return sa.exists().where(own.mass_action_id == batch_id, own.address_id == address_id)

    return Kept(
        account_id,
        holds,
        lambda status, latest=None: undo_reason(batch_id, status, latest),
        True,
        whole,
    )


def _counts(summary: SelectionSummary) -> Counts:
    return {None: summary.eligible, **summary.skipped_by_reason}


def _kept(holder: Holder) -> Counts:
    return {reason: n for reason, n in holder.eligibility}


def _store(holder: Holder, counts: Counts, through: int) -> None:
    holder.eligibility = [[reason, n] for reason, n in counts.items() if n]
    holder.eligibility_through = through


def _newest_event(session: Session) -> int:
    return session.scalar(sa.select(sa.func.max(StatusEvent.id))) or 0


def _changed_since(session: Session, account_id: int, through: int) -> bool:
    """Whether any status of the account may have changed after event `through`: one row
    (`Account.status_changed_through`), not a scan of everything written since."""
    marked = session.scalar(
        sa.select(Account.status_changed_through).where(Account.id == account_id)
    )
    return marked > through


def _too_many_since(session: Session, account_id: int, through: int) -> bool:
    """More than CHANGES_MAX status events of the account after `through`."""
    some = (
        sa.select(StatusEvent.id)
        .where(StatusEvent.id > through, StatusEvent.account_id == account_id)
        .limit(CHANGES_MAX + 1)
        .subquery()
    )
    return session.scalar(sa.select(sa.func.count()).select_from(some)) > CHANGES_MAX


def _moves_since(session: Session, kept: Kept, through: int) -> dict[tuple, int]:
    """(reason then, reason now) → how many of the addresses changed status after event
    `through`, in one statement (one snapshot)."""
    changed = (
        sa.select(StatusEvent.address_id, sa.func.min(StatusEvent.id).label("first_id"))
        .where(
            StatusEvent.id > through,
            StatusEvent.account_id == kept.account_id,
            kept.holds(StatusEvent.address_id),
        )
        .group_by(StatusEvent.address_id)
        .subquery()
    )
    first = aliased(StatusEvent)  # its from_status is the address's status at the watermark
    then = kept.rule(
        first.from_status,
        latest_batch_of_address(changed.c.address_id, through) if kept.by_batch else None,
    )
    moves = (
        sa.select(then.label("then"), kept.rule(EmailAddress.status).label("now"))
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


def keep(session: Session, kept: Kept, holder: Holder) -> SelectionSummary:
    """Count whole and keep the count as of the newest status event. The caller holds the
    account's lock (a freeze's or a mass opt-out's last chunk does)."""
    through = _newest_event(session)
    summary = kept.whole(session)
    _store(holder, _counts(summary), through)
    return summary


def begin_freeze(session: Session, freeze: RequestFreeze) -> None:
    """At a freeze's first chunk (the account locked): note the newest status event, so its
    end can tell whether any status of the account changed while it recorded (`keep_frozen`).
    Stored in `eligibility_through`, which no reader looks at while `eligibility` is None."""
    freeze.eligibility_through = _newest_event(session)


def keep_frozen(session: Session, kept: Kept, freeze: RequestFreeze, frozen: int) -> None:
    """At a freeze's last chunk (the account locked): keep its count. The freeze recorded
    only addresses eligible as their chunk reached them, so when no status of the account
    changed since its first chunk, all `frozen` are eligible now, with nothing to count
    (0.4 s at 1,000,000 addresses on PostgreSQL); otherwise, or when its first chunk noted
    nothing, it is counted whole."""
    began = freeze.eligibility_through
    if began is None or _changed_since(session, kept.account_id, began):
        keep(session, kept, freeze)
    else:
        _store(freeze, {None: frozen}, _newest_event(session))


def refresh(session: Session, kept: Kept, holder: Holder) -> bool:
    """Move the kept count forward to the newest status event, taking the account's lock
    (released when the caller commits); True when it was moved."""
    lock_account(session, kept.account_id)
    through = _newest_event(session)
    if holder.eligibility is None or _too_many_since(
        session, kept.account_id, holder.eligibility_through
    ):
        keep(session, kept, holder)
        return True
    if through == holder.eligibility_through:
        return False
    if _changed_since(session, kept.account_id, holder.eligibility_through):
        moves = _moves_since(session, kept, holder.eligibility_through)
        _store(holder, _moved(_kept(holder), moves), through)
    else:
        holder.eligibility_through = through
    return True


def counted(session: Session, kept: Kept, holder: Holder | None) -> SelectionSummary:
    """The addresses' eligibility at this moment: the kept count plus the changes since, or
    counted whole when there is no kept count or too much has changed."""
    if holder is None or holder.eligibility is None:
        return kept.whole(session)
    through = holder.eligibility_through
    if not _changed_since(session, kept.account_id, through):
        return _summary(_kept(holder))
    if _too_many_since(session, kept.account_id, through):
        return kept.whole(session)
    return _summary(_moved(_kept(holder), _moves_since(session, kept, through)))


def eligibility(session: Session, req: ConsentRequest) -> SelectionSummary:
    """The frozen selection as approval would see it at this moment."""
    return counted(session, of_request(req), session.get(RequestFreeze, req.id))


def refresh_open(session: Session) -> int:
    """Move forward the kept count of every open request whose selection is recorded, and of
    every mass opt-out that keeps one and whose account changed since; one per transaction
    (the account's lock is held only for its own); how many moved."""
    from .targets import UndoTarget  # the batch's whole count

    requests = session.scalars(
        sa.select(ConsentRequest.id)
        .join(RequestFreeze, RequestFreeze.id == ConsentRequest.id)
        .where(ConsentRequest.state.in_(OPEN_STATES), RequestFreeze.state == FreezeState.done)
        .order_by(ConsentRequest.id)
    ).all()
    batches = session.scalars(
        sa.select(MassAction.id)
        .join(Account, Account.id == MassAction.account_id)
        .where(
            MassAction.kind == MassActionKind.opt_out,
            MassAction.state == MassActionState.done,
            sa.or_(  # run before counts were kept, or its account changed since
                MassAction.eligibility_through.is_(None),
                MassAction.eligibility_through < Account.status_changed_through,
            ),
        )
        .order_by(MassAction.id)
    ).all()
    session.commit()
    moved = 0
    for request_id in requests:
        req = session.get(ConsentRequest, request_id)
        moved += refresh(session, of_request(req), session.get(RequestFreeze, request_id))
        session.commit()
    for batch_id in batches:
        batch = session.get(MassAction, batch_id)
        target = UndoTarget(batch.account_id, batch_id)
        moved += refresh(session, of_batch(batch.account_id, batch_id, target.whole), batch)
        session.commit()
    return moved
