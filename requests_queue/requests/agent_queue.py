"""The agent queue: open requests across accounts, filtered, counted and paged — fast.

Two reads, whatever the table size:
- the filter counts come from the counts the database keeps, summed per facet in SQL
  (`queue_facets`);
- the page comes from ordered, limited index ranges merged by one UNION ALL, so neither database
  sorts the whole queue to show 25 rows (deep pages use one ORDER BY … OFFSET).

The default order is by deadline: running requests by their SLA clock's base (due and
breach are both monotonic in it, so the breached come first, then the at-risk, then the
rest, each soonest deadline first; `ix_consent_requests_deadline`, one range for requests
that never waited, by filing time, and one for those with a stored base), then the requests
waiting for the customer, whose clock stands still, oldest first. Filing order, oldest or
newest first, is one range per open state (`ix_consent_requests_queue` / `_assignee` /
`_account`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, load_only

from ..models import (
    Account,
    ConsentRequest,
    MassAction,
    MassActionKind,
    RequestKind,
    RequestState,
    User,
)
from ..models.requests import OPEN_STATES
from ..sla.engine import RUNNING_STATES
from .queue_facets import MAX_ACCOUNTS_LISTED, QueueCounts, queue_counts
from .queue_filter import QueueFilter, QueueOrder, shaped_conditions

__all__ = [  # the queue's public names, wherever they are defined
    "MAX_ACCOUNTS_LISTED", "PER_PAGE", "QueueCounts", "QueueFilter", "QueueOrder", "QueuePage",
    "account_history", "queue_counts", "queue_page",
]  # fmt: skip

PER_PAGE = 25
DEEP_PAGE_ROWS = 500  # beyond this many rows from the top, the database skips the offset


@dataclass
class QueuePage:
    """One page of the queue with its counts."""

    rows: list[ConsentRequest]
    counts: QueueCounts
    page: int
    pages: int


def _ordered_ids(
    session: Session, flt: QueueFilter, counts: QueueCounts, offset: int, limit: int
) -> list[int]:
    """Ids of one page in queue order."""
    states = [flt.state] if flt.state else list(OPEN_STATES)
    if flt.order is not QueueOrder.deadline:
        return _by_filing(session, flt, states, offset, limit)
    running = [s for s in states if s in RUNNING_STATES]
    waiting = [s for s in states if s not in RUNNING_STATES]
    ahead = sum(counts.state.get(s, 0) for s in running)  # running first, then the paused
    ids = _by_deadline(session, flt, running, offset, limit) if offset < ahead else []
    if waiting and len(ids) < limit:
        ids += _by_filing(session, flt, waiting, max(0, offset - ahead), limit - len(ids))
    return ids


def _by_filing(
    session: Session, flt: QueueFilter, states: list, offset: int, limit: int
) -> list[int]:
    """Filing order: one short index range per state, merged in one statement; deep pages
    let the database skip `offset` rows of a single ordered query instead."""
    c = ConsentRequest
    newest = flt.order is QueueOrder.newest
    order = (c.filed_at.desc(), c.id.desc()) if newest else (c.filed_at, c.id)
    if offset + limit > DEEP_PAGE_ROWS and len(states) > 1:
        query = (
            sa.select(c.id)
            .where(c.state.in_(states), *flt.conditions())
            .order_by(*order)
            .limit(limit)
            .offset(offset)
        )
        return list(session.scalars(query))
    runs = [
        sa.select(c.filed_at.label("k"), c.id.label("rid"))
        .where(c.state == state, *flt.conditions())
        .order_by(*order)
        for state in states
    ]
    return _merged_ids(session, runs, offset, limit, newest=newest)


def _by_deadline(
    session: Session, flt: QueueFilter, states: list, offset: int, limit: int
) -> list[int]:
    """Running requests by clock base (filing time when they never waited), then filing
    time and id: two short index ranges per state merged in one statement, or one sorted query
    deep."""
    c = ConsentRequest
    if not states:
        return []
    if offset + limit > DEEP_PAGE_ROWS:
        base = sa.func.coalesce(c.clock_base_at, c.filed_at)
        query = (
            sa.select(c.id)
            .where(c.state.in_(states), *flt.conditions())
            .order_by(base, c.filed_at, c.id)
            .limit(limit)
            .offset(offset)
        )
        return list(session.scalars(query))
    if not flt.search.strip():  # the usual page: its statement built once per shape
        statement = _deadline_runs(tuple(states), *flt.shape())
        params = {**flt.shape_params(), "run_limit": offset + limit, "limit": limit,
                  "offset": offset}  # fmt: skip
        return list(session.scalars(statement, params))
    return _merged_ids(session, _deadline_run_list(states, flt.conditions()), offset, limit)


def _deadline_run_list(states, conditions) -> list[sa.Select]:
    """Two ordered runs per state: never waited (by filing time), waited (by clock base)."""
    c = ConsentRequest
    runs = []
    for state in states:
        here = (c.state == state, *conditions)
        never_waited = (
            sa.select(c.filed_at.label("k"), c.filed_at.label("filed"), c.id.label("rid"))
            .where(*here, c.clock_base_at.is_(None))
            .order_by(c.filed_at, c.id)
        )
        waited = (
            sa.select(c.clock_base_at.label("k"), c.filed_at.label("filed"), c.id.label("rid"))
            .where(*here, c.clock_base_at.is_not(None))
            .order_by(c.clock_base_at, c.filed_at, c.id)
        )
        runs += [never_waited, waited]
    return runs


@functools.cache
def _deadline_runs(states: tuple, kind: bool, account: bool, assignee: str) -> sa.Select:
    """`_merged_ids`' statement for the deadline order, built once per set of states and shape
    of filter (building it cost more Python than the database spends running it)."""
    runs = _deadline_run_list(states, shaped_conditions(kind, account, assignee))
    return _merged_statement(
        runs, sa.bindparam("run_limit"), sa.bindparam("limit"), sa.bindparam("offset")
    )


def _merged_ids(
    session: Session, runs: list[sa.Select], offset: int, limit: int, newest: bool = False
) -> list[int]:
    """The ids of rows offset…offset+limit of several ordered runs merged, in one statement."""
    return list(session.scalars(_merged_statement(runs, offset + limit, limit, offset, newest)))


def _merged_statement(runs: list[sa.Select], run_limit, limit, offset, newest: bool = False):
    """Rows offset…offset+limit of several ordered runs merged (the ids).

    Each run keeps its own ORDER BY and LIMIT inside the UNION ALL, so each stays a short
    range of its index; the database merges at most len(runs) × (offset + limit) rows. The
    runs select the same labelled sort keys, the id last.
    """
    parts = [sa.select(run.limit(run_limit).subquery()) for run in runs]
    merged = sa.union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    keys = list(merged.c)
    order = [k.desc() for k in keys] if newest else keys
    return sa.select(keys[-1]).order_by(*order).limit(limit).offset(offset)


C = ConsentRequest
# What a queue row shows and its countdown reads, loaded with the account's name and the
# assignee's: the rest of a request (its evidence, JSON lists, decision) is left in the
# database, and reading it from a queue row raises rather than quietly querying per row.
ROW_COLUMNS = (
    load_only(C.id, C.account_id, C.kind, C.state, C.filed_at, C.assignee_id, C.address_count,
              C.clock_base_at, C.clock_ran_s, C.clock_due_at, C.clock_breach_at,
              C.clock_calendar_key, raiseload=True),
    joinedload(C.account).load_only(Account.id, Account.name, raiseload=True),
    joinedload(C.assignee).load_only(User.id, User.name, User.email),
)  # fmt: skip


def queue_page(
    session: Session, flt: QueueFilter, page: int = 1, per_page: int = PER_PAGE
) -> QueuePage:
    """The requested page of the queue, by deadline unless asked otherwise, with counts."""
    counts = queue_counts(session, flt)
    pages = max(1, -(-counts.total // per_page))
    page = min(max(1, page), pages)
    ids = _ordered_ids(session, flt, counts, (page - 1) * per_page, per_page)
    loaded = {r.id: r for r in session.scalars(sa.select(ConsentRequest).where(
        ConsentRequest.id.in_(ids)).options(*ROW_COLUMNS))}  # fmt: skip
    return QueuePage([loaded[i] for i in ids], counts, page, pages)


class HistoryRequest(NamedTuple):
    """A request as an account's history lists it."""

    id: int
    kind: RequestKind
    state: RequestState
    filed_at: datetime

    number = property(ConsentRequest.number.fget)  # R-000123, as the request names itself


class HistoryBatch(NamedTuple):
    """A mass action as an account's history lists it."""

    id: int
    kind: MassActionKind
    changed_count: int
    created_at: datetime


def _newest(*columns) -> sa.Select:
    table = columns[0].table
    return (
        sa.select(*columns)
        .where(table.c.account_id == sa.bindparam("account_id"))
        .order_by(table.c.id.desc())
        .limit(sa.bindparam("limit"))
    )


# Built once: building them cost more Python than the database spends running them.
_REQUESTS = _newest(*(ConsentRequest.__table__.c[f] for f in HistoryRequest._fields))
_BATCHES = _newest(*(MassAction.__table__.c[f] for f in HistoryBatch._fields))


def account_history(
    session: Session, account_id: int, limit: int = 20
) -> tuple[list[HistoryRequest], list[HistoryBatch]]:
    """The account's latest requests and mass actions, newest first (what a history lists:
    plain rows, not the whole requests)."""
    params = {"account_id": account_id, "limit": limit}
    requests = [HistoryRequest(*row) for row in session.execute(_REQUESTS, params)]
    batches = [HistoryBatch(*row) for row in session.execute(_BATCHES, params)]
    return requests, batches
