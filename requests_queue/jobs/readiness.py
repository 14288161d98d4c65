"""Is the installation able to do its work? The facts behind `/readyz` and the System page.

Each check is a plain fact with a sentence for people; none names a host, a URL or a secret,
because `/readyz` answers anyone who asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models.jobs import SchedulerBeat
from ..models.outbox import OutboxMessage, OutboxState
from .beats import ALIVE_WITHIN


@dataclass(frozen=True)
class Check:
    """One readiness fact: its name, whether it holds, and what it is in words."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class OutboxLimits:
    """How much unsent mail an installation tolerates before it reports itself not ready."""

    max_backlog: int = 50_000
    max_age: timedelta = timedelta(hours=2)


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def scheduler_check(session: Session, now: datetime) -> Check:
    """An active scheduler beat within the last two minutes."""
    last = session.scalar(
        sa.select(sa.func.max(SchedulerBeat.beat_at)).where(SchedulerBeat.active_since.is_not(None))
    )
    if last is None:
        return Check("scheduler", False, "no scheduler has reported in: is `flask scheduler` up?")
    age = max(now - last, timedelta(0))
    if age > ALIVE_WITHIN:
        return Check("scheduler", False, f"the scheduler's last heartbeat was {_ago(age)} ago")
    return Check("scheduler", True, f"active, last heartbeat {_ago(age)} ago")


def outbox_check(session: Session, now: datetime, limits: OutboxLimits) -> Check:
    """Unsent mail (pending or being sent) under both limits: how many, and how old."""
    count, oldest = session.execute(
        sa.select(sa.func.count(), sa.func.min(OutboxMessage.created_at)).where(
            OutboxMessage.state.in_((OutboxState.pending, OutboxState.sending))
        )
    ).one()
    if not count:
        return Check("outbox", True, "no unsent mail")
    age = max(now - oldest, timedelta(0))
    detail = f"{count:,} unsent, the oldest {_ago(age)} old"
    problems = []
    if count > limits.max_backlog:
        problems.append(f"more than {limits.max_backlog:,}")
    if age > limits.max_age:
        problems.append(f"older than {_ago(limits.max_age)}")
    if problems:
        return Check("outbox", False, f"{detail} ({' and '.join(problems)})")
    return Check("outbox", True, detail)


def scheduler_processes(session: Session) -> list[SchedulerBeat]:
    """Every scheduler process that reported in during the last day, active ones first."""
    return list(
        session.scalars(
            sa.select(SchedulerBeat).order_by(
                SchedulerBeat.active_since.is_(None), SchedulerBeat.beat_at.desc()
            )
        )
    )
