"""The agent queue: open requests across accounts, filtered, counted and paged — fast.

Two reads, whatever the table size:
- the filter counts come from ONE `GROUP BY state, kind, account_id, assignee_id` over the
  open states, a range of the covering index `ix_consent_requests_facets`; each facet's
  counts (with the other active filters applied) are summed from those groups in Python;
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
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, load_only

from ..enums import TitledEnum
from ..ids import MAX_ID
from ..models import Account, ConsentRequest, MassAction, RequestKind, RequestState, User
from ..models.requests import OPEN_STATES
from ..sla.engine import RUNNING_STATES
from . import queue_tally

PER_PAGE = 25
MAX_ACCOUNTS_LISTED = 50
DEEP_PAGE_ROWS = 500  # beyond this many rows from the top, the database skips the offset


class QueueOrder(TitledEnum):
    """How the queue is sorted."""

    deadline = ("deadline", "Next deadline")
    oldest = ("oldest", "Oldest first")
    newest = ("newest", "Newest first")


@dataclass(frozen=True)
class QueueFilter:
    """What the agent narrows the queue to (every part optional)."""

    kind: RequestKind | None = None
    state: RequestState | None = None  # one of the open states
    account_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    order: QueueOrder = QueueOrder.deadline
    search: str = ""  # a request number, or part of a customer's email or an account's name

    def search_conditions(self) -> list[sa.ColumnElement[bool]]:
        """WHERE clauses of the search: "R-000123" (or 123) is that request; anything else
        finds the requests of every account whose name or a user's email contains it."""
        text = self.search.strip()
        if not text:
            return []
        digits = text.upper().removeprefix("R-").removeprefix("R")
        if digits.isascii() and digits.isdigit():
            significant = digits.lstrip("0") or "0"
            # A number no row can have finds nothing (PostgreSQL would refuse to compare it).
            if len(significant) > len(str(MAX_ID)) or int(significant) > MAX_ID:
                return [sa.false()]
            return [ConsentRequest.id == int(significant)]
        wanted = text.lower()
        named = sa.select(Account.id).where(
            sa.func.lower(Account.name).contains(wanted, autoescape=True)
        )
        emailed = sa.select(User.account_id).where(
            User.account_id.is_not(None),
            sa.func.lower(User.email).contains(wanted, autoescape=True),
        )
        return [ConsentRequest.account_id.in_(named.union(emailed))]

    def conditions(self, skip: str = "") -> list[sa.ColumnElement[bool]]:
        """WHERE clauses on ConsentRequest, leaving out the facet named `skip`."""
        c = ConsentRequest
        conds = self.search_conditions()
        if self.kind is not None and skip != "kind":
            conds.append(c.kind == self.kind)
        if self.account_id is not None and skip != "account":
            conds.append(c.account_id == self.account_id)
        if skip != "assignee":
            if self.unassigned:
                conds.append(c.assignee_id.is_(None))
            elif self.assignee_id is not None:
                conds.append(c.assignee_id == self.assignee_id)
        return conds


@dataclass
class QueueCounts:
    """How many open requests each filter value would show (the other filters applied)."""

    total: int = 0
    state: dict[RequestState, int] = field(default_factory=dict)
    kind: dict[RequestKind, int] = field(default_factory=dict)
    # The accounts with most requests (at most MAX_ACCOUNTS_LISTED) and the selected one;
    # account_total sums every account's.
    account: dict[int, int] = field(default_factory=dict)
    account_total: int = 0
    assignee: dict[int | None, int] = field(default_factory=dict)  # None: unassigned
    account_names: dict[int, str] = field(default_factory=dict)

    def top_accounts(self, selected: int | None = None) -> list[tuple[int, str, int]]:
        """(id, name, count) of the accounts with most open requests, the selected one kept."""
        ranked = sorted(self.account.items(), key=lambda kv: (-kv[1], kv[0]))
        keep = ranked[:MAX_ACCOUNTS_LISTED]
        if selected is not None and selected not in dict(keep):
            keep.append((selected, self.account.get(selected, 0)))
        return [(i, self.account_names.get(i, f"#{i}"), n) for i, n in keep]


@dataclass
class QueuePage:
    """One page of the queue with its counts."""

    rows: list[ConsentRequest]
    counts: QueueCounts
    page: int
    pages: int


def _facets(groups: sa.Select, state: bool, kind: bool, account: bool, assignee: str):
    """The facet counts over `groups` (columns state, kind, account_id, assignee_id, n) for a
    filter of this shape: which filters are set (`assignee`: "", "one" or "none"); the values
    are the parameters want_state, want_kind, want_account and want_assignee."""
    g = groups.cte("queue_groups")
    matches = {
        "state": g.c.state == sa.bindparam("want_state") if state else None,
        "kind": g.c.kind == sa.bindparam("want_kind") if kind else None,
        "account": g.c.account_id == sa.bindparam("want_account") if account else None,
        "assignee": (
            g.c.assignee_id.is_(None) if assignee == "none"
            else g.c.assignee_id == sa.bindparam("want_assignee") if assignee else None
        ),
    }  # fmt: skip

    def part(facet: str, text=None, number=None, skip: str | None = None, order=None):
        """One facet's rows: (facet, text value, number value, count), its own filter left out."""
        others = [m for name, m in matches.items() if name != skip and m is not None]
        n = sa.func.sum(g.c.n)
        keys = [k for k in (text, number) if k is not None]
        query = sa.select(
            sa.literal(facet),
            text if text is not None else sa.cast(sa.null(), sa.String),
            number if number is not None else sa.cast(sa.null(), sa.Integer),
            n,
        ).where(*others)
        if keys:
            query = query.group_by(*keys)
        if order is not None:  # the accounts with most requests, then by id
            query = query.order_by(n.desc(), number).limit(MAX_ACCOUNTS_LISTED).subquery()
            query = sa.select(query)
        return query

    parts = [
        part("total"),
        part("state", text=g.c.state, skip="state"),
        part("kind", text=g.c.kind, skip="kind"),
        part("assignee", number=g.c.assignee_id, skip="assignee"),
        part("accounts", skip="account"),
        part("account", number=g.c.account_id, skip="account", order=True),
    ]
    if account:  # the selected account, listed whatever its rank
        parts.append(part("account", number=g.c.account_id, skip="account").where(
            g.c.account_id == sa.bindparam("want_account")))  # fmt: skip
    return sa.union_all(*parts)


@functools.cache
def _kept_facets(state: bool, kind: bool, account: bool, assignee: str):
    """`_facets` over the kept counts, built once per shape of filter (48 at most): building
    the statement cost more Python than the database spends running it."""
    return _facets(queue_tally.GROUPS, state, kind, account, assignee)


def queue_counts(session: Session, flt: QueueFilter) -> QueueCounts:
    """Every facet's counts, summed by the database in one statement over the open requests'
    groups: the kept counts (`queue_tally`), or with a search the groups of the requests it
    finds.

    A group counts toward a facet's value when it matches every other active filter, and
    toward the total when it matches them all. Of the accounts, the page lists those with the
    most requests and the one selected, so only those come back, with the sum over all.
    """
    c = ConsentRequest
    shape = (
        flt.state is not None,
        flt.kind is not None,
        flt.account_id is not None,
        "none" if flt.unassigned else "one" if flt.assignee_id is not None else "",
    )
    params = {
        "states": [s.value for s in OPEN_STATES],
        "want_state": flt.state.value if flt.state is not None else None,
        "want_kind": flt.kind.value if flt.kind is not None else None,
        "want_account": flt.account_id,
        "want_assignee": flt.assignee_id,
    }
    if flt.search.strip():
        groups = (
            sa.select(
                sa.type_coerce(c.state, sa.String).label("state"),
                sa.type_coerce(c.kind, sa.String).label("kind"),
                c.account_id,
                c.assignee_id,
                sa.func.count().label("n"),
            )
            .where(c.state.in_(OPEN_STATES), *flt.search_conditions())
            .group_by(c.state, c.kind, c.account_id, c.assignee_id)
        )
        statement = _facets(groups, *shape)
    else:  # the kept counts: a group per account, state, kind and assignee, however many open
        statement = _kept_facets(*shape)
    counts = QueueCounts()
    for facet, text, number, n in session.execute(statement, params):
        n = int(n or 0)
        if facet == "total":
            counts.total = n
        elif facet == "accounts":
            counts.account_total = n
        elif facet == "state":
            counts.state[RequestState(text)] = n
        elif facet == "kind":
            counts.kind[RequestKind(text)] = n
        elif facet == "assignee":
            counts.assignee[number] = n
        else:
            counts.account[number] = n
    if counts.account or flt.account_id:
        wanted = [*counts.account, *([flt.account_id] if flt.account_id else [])]
        names = sa.select(Account.id, Account.name).where(Account.id.in_(wanted))
        counts.account_names = dict(session.execute(names).all())
    return counts


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
        statement = _deadline_runs(tuple(states), *_shape(flt))
        params = {**_shape_params(flt), "run_limit": offset + limit, "limit": limit,
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


def _shape(flt: QueueFilter) -> tuple[bool, bool, str]:
    """Which of the kind, account and assignee filters are set (assignee: "", "one", "none")."""
    assignee = "none" if flt.unassigned else "one" if flt.assignee_id is not None else ""
    return flt.kind is not None, flt.account_id is not None, assignee


def _shape_params(flt: QueueFilter) -> dict:
    return {
        "want_kind": flt.kind.value if flt.kind is not None else None,
        "want_account": flt.account_id,
        "want_assignee": flt.assignee_id,
    }


def _shape_conditions(kind: bool, account: bool, assignee: str) -> list:
    """`QueueFilter.conditions` (no search) with its values as parameters."""
    c = ConsentRequest
    conds = []
    if kind:
        conds.append(sa.type_coerce(c.kind, sa.String) == sa.bindparam("want_kind"))
    if account:
        conds.append(c.account_id == sa.bindparam("want_account"))
    if assignee == "none":
        conds.append(c.assignee_id.is_(None))
    elif assignee:
        conds.append(c.assignee_id == sa.bindparam("want_assignee"))
    return conds


@functools.cache
def _deadline_runs(states: tuple, kind: bool, account: bool, assignee: str) -> sa.Select:
    """`_merged_ids`' statement for the deadline order, built once per set of states and shape
    of filter (building it cost more Python than the database spends running it)."""
    runs = _deadline_run_list(states, _shape_conditions(kind, account, assignee))
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


def account_history(
    session: Session, account_id: int, limit: int = 20
) -> tuple[list[ConsentRequest], list[MassAction]]:
    """The account's latest requests and mass actions, newest first."""

    def newest(model) -> list:
        query = sa.select(model).where(model.account_id == account_id)
        return list(session.scalars(query.order_by(model.id.desc()).limit(limit)))

    return newest(ConsentRequest), newest(MassAction)
