"""Claiming due rows of a delivery queue (the email outbox, webhook deliveries): the one way
several sender processes share a queue without sending a row twice.

A claim marks up to `size` due pending rows as being sent under the sender's token, in one
UPDATE. On PostgreSQL the rows are chosen with FOR UPDATE SKIP LOCKED, so two senders never
wait on each other nor take the same row; SQLite serialises writers anyway. `Backoff` is how
long a sender waits after a failed try and when a dead sender's claim is taken back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Backoff:
    """A queue's waits: after `attempts` failed tries, base × 2^(attempts-1), capped at `cap`;
    a claim older than `claim_timeout` belongs to a dead sender. Each sender sets its own."""

    base: timedelta
    cap: timedelta
    claim_timeout: timedelta

    def delay(self, attempts: int) -> timedelta:
        """The wait before the next try, after `attempts` failed tries."""
        return min(self.base * 2 ** max(attempts - 1, 0), self.cap)


def claim_due(
    session: Session,
    model: Any,
    pending: Enum,
    sending: Enum,
    token: str,
    now: datetime,
    size: int,
    **also: Any,
) -> list[int]:
    """Mark up to `size` of `model`'s rows in state `pending` and due by `now` (oldest due
    first) as `sending`, claimed by `token` at `now` (and `also`, more column values); returns
    their ids. `model` has id, state, next_attempt_at, claimed_by and claimed_at."""
    due = (
        sa.select(model.id)
        .where(model.state == pending, model.next_attempt_at <= now)
        .order_by(model.next_attempt_at, model.id)
        .limit(size)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Materialised once: inlined as `id IN (…)` PostgreSQL may rescan the locking
        # subquery and claim more than `size` rows.
        due = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        chosen = model.id.in_(sa.select(due.c.id))
    else:
        chosen = model.id.in_(due.scalar_subquery())
    claimed = session.execute(
        sa.update(model)
        .where(chosen, model.state == pending)
        .values(state=sending, claimed_by=token, claimed_at=now, **also)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())
