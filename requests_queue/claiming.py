"""Claiming due rows of a delivery queue (the email outbox, webhook deliveries): the one way
several sender processes share a queue without sending a row twice.

A claim marks up to `size` due pending rows as being sent under the sender's token, in one
UPDATE. On PostgreSQL the rows are chosen with FOR UPDATE SKIP LOCKED, so two senders never
wait on each other nor take the same row; SQLite serialises writers anyway.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


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
