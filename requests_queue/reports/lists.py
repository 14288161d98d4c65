"""The dashboard's request lists: open requests at risk or breached now, breaches of a period."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..enums import TitledEnum
from ..models import Account, ConsentRequest, RequestKind, RequestState, User
from ..models.requests import OPEN_STATES
from ..sla.engine import AT_RISK, BREACHED, at_level
from .figures import breached_in
from .period import Period
from .scale import Scale

R = ConsentRequest


class Watch(TitledEnum):
    """Which open requests a list shows."""

    breached = (BREACHED, "Breached")
    at_risk = (AT_RISK, "At risk")


@dataclass(frozen=True)
class RequestRow:
    """A request as the dashboard lists it (durations in business seconds)."""

    request_id: int
    account: str
    kind: RequestKind
    state: RequestState
    assignee_id: int | None
    assignee: str | None
    filed_at: datetime
    due_at: datetime | None
    breach_at: datetime | None
    decided_at: datetime | None
    clock_s: int
    late_s: int

    @property
    def number(self) -> str:
        """R-000123."""
        return f"R-{self.request_id:06d}"


def watch_condition(scale: Scale, watch: Watch) -> sa.ColumnElement[bool]:
    """Open requests whose clock is at the engine's level `watch` (`sla.engine.at_level`)
    now, over the stored clocks."""
    return sa.and_(R.state.in_(OPEN_STATES), at_level(watch.value, scale.reached()))


def _rows(session: Session, scale: Scale, where, order, limit: int | None) -> Iterator[RequestRow]:
    """The rows of `where` in `order`: chosen from the facts' index first, then joined."""
    holder = aliased(User)
    clock = scale.clock_s()
    picked = sa.select(R.id).where(where).order_by(*order, R.id).limit(limit).subquery()
    query = (
        sa.select(
            R.id,
            Account.name,
            R.kind,
            R.state,
            R.assignee_id,
            sa.func.coalesce(sa.func.nullif(holder.name, ""), holder.email),
            R.filed_at,
            R.clock_due_at,
            R.clock_breach_at,
            R.decided_at,
            clock,
            clock - scale.breach_s,
        )
        .join(picked, picked.c.id == R.id)
        .join(Account, Account.id == R.account_id)
        .outerjoin(holder, holder.id == R.assignee_id)
        .order_by(*order, R.id)
    )
    for row in session.execute(query):
        yield RequestRow(*row)


def watch_list(
    session: Session, scale: Scale, watch: Watch, limit: int | None = None
) -> Iterator[RequestRow]:
    """Open requests at risk (or breached) now, the longest-running clock first."""
    clock = scale.clock_s()
    return _rows(session, scale, watch_condition(scale, watch), (clock.desc(),), limit)


def breach_count(session: Session, period: Period, scale: Scale) -> int:
    """How many breaches fell in the period."""
    return session.scalar(sa.select(sa.func.count()).where(breached_in(period, scale)))


def breach_list(
    session: Session, period: Period, scale: Scale, limit: int | None = None
) -> Iterator[RequestRow]:
    """The period's breaches, open or closed since, the latest first by how late they are."""
    late = scale.late_s()
    return _rows(session, scale, breached_in(period, scale), (late.desc(),), limit)
