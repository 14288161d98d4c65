"""What the agent narrows the queue to, and how it is sorted (`agent_queue` pages it,
`queue_facets` counts it)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..enums import TitledEnum
from ..ids import MAX_ID
from ..models import Account, ConsentRequest, RequestKind, RequestState, User


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

    def shape(self) -> tuple[bool, bool, str]:
        """Which of the kind, account and assignee filters are set (assignee: "", "one" or
        "none"): the key of the statements built once (`shaped_conditions`)."""
        assignee = "none" if self.unassigned else "one" if self.assignee_id is not None else ""
        return self.kind is not None, self.account_id is not None, assignee

    def shape_params(self) -> dict:
        """The values of `shaped_conditions`' parameters for this filter."""
        return {
            "want_kind": self.kind.value if self.kind is not None else None,
            "want_account": self.account_id,
            "want_assignee": self.assignee_id,
        }


def shaped_conditions(kind: bool, account: bool, assignee: str) -> list:
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
