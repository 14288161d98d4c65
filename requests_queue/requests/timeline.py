"""Reading a request's timeline: for the desk, for the customer, and for the SLA clock.

The timeline is append-only and complete: `filed` starts the clock, `claimed` (or the first
`assigned`) is the first response, `question` pauses it (to_state awaiting_customer), `answer`
resumes it, and approved / rejected / withdrawn / closed stop it. Every event carries the
state before and after, so the clock can be derived from `to_state` alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ..models import RequestEvent, RequestEventKind


def request_timeline(
    session: Session, request_id: int, *, include_internal: bool = True
) -> list[RequestEvent]:
    """The request's events, oldest first (internal notes only when asked for)."""
    query = (
        sa.select(RequestEvent)
        .where(RequestEvent.request_id == request_id)
        .order_by(RequestEvent.id)
        .options(selectinload(RequestEvent.actor_user), selectinload(RequestEvent.assignee))
    )
    if not include_internal:
        query = query.where(RequestEvent.is_internal.is_(False))
    return list(session.scalars(query))


def request_timelines(
    session: Session, request_ids: Iterable[int]
) -> dict[int, list[RequestEvent]]:
    """Timelines of many requests in one query (internal notes included), oldest first."""
    ids = list(request_ids)
    out: dict[int, list[RequestEvent]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.scalars(
        sa.select(RequestEvent)
        .where(RequestEvent.request_id.in_(ids))
        .order_by(RequestEvent.request_id, RequestEvent.id)
    )
    for event in rows:
        out[event.request_id].append(event)
    return out


STARTS_REVIEW = (RequestEventKind.claimed, RequestEventKind.assigned)


def customer_timeline(session: Session, request_id: int) -> list[RequestEvent]:
    """What the customer sees: no internal notes, and support starting the review once; no
    reassignments between agents, nor work returned to the pool and taken up again."""
    shown, started = [], False
    for e in request_timeline(session, request_id, include_internal=False):
        if e.kind in STARTS_REVIEW:
            if started or e.assignee_id is None and e.kind is RequestEventKind.assigned:
                continue
            started = True
        shown.append(e)
    return shown
