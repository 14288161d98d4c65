"""The agent queue's filter counts: how many open requests each filter value would show.

The database sums them in one statement over the open requests' groups (one per state, kind,
account and assignee): the counts it keeps (`queue_tally`), or with a search the groups of the
requests the search finds. The statement is built once per shape of filter.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Account, ConsentRequest, RequestKind, RequestState
from ..models.requests import OPEN_STATES
from . import queue_tally
from .queue_filter import QueueFilter

MAX_ACCOUNTS_LISTED = 50


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
    shape = (flt.state is not None, *flt.shape())
    params = {
        **flt.shape_params(),
        "states": [s.value for s in OPEN_STATES],
        "want_state": flt.state.value if flt.state is not None else None,
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
