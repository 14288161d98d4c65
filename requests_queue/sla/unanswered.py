"""Requests left waiting for the customer: a reminder after 5 business days, closed after 10.

Waiting time is business time since the latest question. The close also needs the reminder
to be 5 business days old, so a scheduler that was down never reminds and closes at once.
Each request moves through the requests engineer's operations (`warn_unanswered`,
`close_unanswered`), which write the timeline and queue the customer's email.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..calendar import BusinessCalendar
from ..errors import DomainError
from ..models import ConsentRequest, RequestEvent, RequestEventKind, RequestState
from ..requests.lifecycle import close_unanswered, warn_unanswered
from .clock import instant_before

REMIND_DAYS = 5
CLOSE_DAYS = 10
R, E = ConsentRequest, RequestEvent


def _latest(kind: RequestEventKind) -> sa.ScalarSelect:
    return (
        sa.select(sa.func.max(E.created_at))
        .where(E.request_id == R.id, E.kind == kind)
        .scalar_subquery()
    )


def remind_and_close_unanswered(
    session: Session, calendar: BusinessCalendar, now: datetime, *, base_url: str
) -> dict[str, int]:
    """Remind after 5 business days without an answer, close after 10; idempotent."""
    day = calendar.hours_per_day
    remind_cutoff = instant_before(calendar, now, REMIND_DAYS * day)
    close_cutoff = instant_before(calendar, now, CLOSE_DAYS * day)
    counts = {"reminded": 0, "closed": 0, "skipped": 0}
    if remind_cutoff is None:
        return counts
    asked, warned = _latest(RequestEventKind.question), _latest(RequestEventKind.warned)
    rows = session.execute(
        sa.select(R, asked.label("asked_at"), warned.label("warned_at"))
        .where(R.state == RequestState.awaiting_customer, asked <= remind_cutoff)
        .order_by(R.id)
    ).all()
    for req, asked_at, warned_at in rows:
        reminded = warned_at is not None and warned_at >= asked_at
        if not reminded:
            action, key = warn_unanswered, "reminded"
        elif close_cutoff is not None and asked_at <= close_cutoff and warned_at <= remind_cutoff:
            action, key = close_unanswered, "closed"
        else:
            continue
        try:
            with session.begin_nested():  # an answer that just arrived wins: skip this one
                action(session, req, now, base_url=base_url)
        except DomainError:
            counts["skipped"] += 1
        else:
            counts[key] += 1
    return counts
