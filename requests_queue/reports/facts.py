"""Keeping `report_facts` in step with the timelines, set-based where SQL can do the work.

Which requests need new facts is decided in SQL: those with an event newer than their row
(or no row); after a calendar edit, also every open one. Their timelines are then read in
chunks, one query each, turned into figures on the calendar's business line (`sla.line`), and
written with one DELETE and one multi-row INSERT per chunk. Running it again changes nothing.

The facts are the history (filed, first response, decision); the clock as it stands now is the
one stored on the request, which a refresh first brings up to date too (`sla.deadlines`), so
the dashboard reads both current.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..calendar import BusinessCalendar
from ..models import ConsentRequest, RequestEvent
from ..models.reports import ReportFact, ReportFactsState
from ..models.requests import OPEN_STATES
from ..sla.clock import DECIDED, calendar_key, is_first_response
from ..sla.deadlines import refresh_stale_clocks
from ..sla.engine import clock_of
from ..sla.line import PER_SECOND, BusinessLine, line_for, micros

R, E, F = ConsentRequest, RequestEvent, ReportFact
CHUNK = 2000
# Event ids are taken before commit, so a slow transaction can commit an id below the
# watermark after a refresh read past it; a quick refresh looks this far back to catch it.
MARGIN = 500


def refresh_report_facts(
    session: Session,
    calendar: BusinessCalendar,
    now: datetime,
    *,
    recent_only: bool = False,
    limit: int | None = None,
) -> dict[str, int]:
    """Recompute the facts of requests with new events, and of open ones after a calendar edit.

    `recent_only` looks at events past the last refresh only, and `limit` gives up (returning
    {"deferred": n}) when more than that many requests need new facts: what a page view can
    afford. Without them every request's latest event is checked, as the scheduled job does.
    """
    key = calendar_key(calendar)
    state = session.scalar(
        sa.select(ReportFactsState)
        .where(ReportFactsState.id == 1)
        .with_for_update()  # one refresh at a time on PostgreSQL; SQLite has one writer
        .execution_options(populate_existing=True)
    )
    clocks = refresh_stale_clocks(session, calendar, key, limit=limit)
    if clocks.deferred:
        return {"facts_computed": 0, "deferred": clocks.deferred}
    clocked = {"clocks_computed": clocks.computed} if clocks.computed else {}
    top = session.scalar(sa.select(sa.func.max(E.id))) or 0
    if state is not None and recent_only:
        # Requests touched since the watermark (a range of the events' primary key; a
        # request listed twice lands in the set once), each compared with its latest event.
        touched = (
            sa.select(E.request_id).where(E.id > max(0, state.last_event_id - MARGIN)).subquery()
        )
        last_id = (
            sa.select(sa.func.max(E.id)).where(E.request_id == touched.c.request_id)
        ).scalar_subquery()
        ids, latest = touched.c.request_id, last_id
    else:
        grouped = (
            sa.select(E.request_id, sa.func.max(E.id).label("last_id"))
            .group_by(E.request_id)
            .subquery()
        )
        ids, latest = grouped.c.request_id, grouped.c.last_id
    stale = set(
        session.scalars(
            sa.select(ids)
            .outerjoin(F, F.request_id == ids)
            .where(sa.or_(F.request_id.is_(None), F.last_event_id != latest))
        )
    )
    if state is not None and state.calendar_key != key:
        # A calendar edit moves the clocks of open requests; decided ones keep the business
        # time they were measured with, so last quarter's figures do not change afterwards.
        stale.update(
            session.scalars(
                sa.select(F.request_id)
                .join(R, R.id == F.request_id)
                .where(R.state.in_(OPEN_STATES))
            )
        )
    ids = sorted(stale)
    if limit is not None and len(ids) > limit:
        return {"facts_computed": 0, "deferred": len(ids), **clocked}
    if not ids and state is not None and (state.calendar_key, state.last_event_id) == (key, top):
        return {"facts_computed": 0, **clocked}  # nothing to write: a page view stays a read
    line = line_for(calendar)
    for start in range(0, len(ids), CHUNK):
        _write(session, line, ids[start : start + CHUNK])
    if state is None:
        state = ReportFactsState(id=1, calendar_key=key)
        session.add(state)
    state.calendar_key, state.last_event_id, state.refreshed_at = key, top, now
    session.flush()
    return {"facts_computed": len(ids), **clocked}


def _write(session: Session, line: BusinessLine, chunk: list[int]) -> None:
    """Compute and store the facts of one chunk of requests."""
    day = line.calendar.hours_per_day
    # Core columns (Table.c): plain rows, none of the ORM's per-row bookkeeping.
    r, e = R.__table__.c, E.__table__.c
    current = {
        row.id: row
        for row in session.execute(sa.select(r.id, r.decided_by_id).where(r.id.in_(chunk)))
    }
    events = session.execute(
        sa.select(e.request_id, e.id, e.kind, e.actor_kind, e.to_state, e.created_at)
        .where(e.request_id.in_(chunk))
        .order_by(e.request_id, e.id)
    ).all()
    rows = [
        facts_of(line, current[request_id], list(timeline), day)
        for request_id, timeline in itertools.groupby(events, key=lambda e: e.request_id)
    ]
    table = F.__table__
    session.execute(sa.delete(table).where(table.c.request_id.in_(chunk)))
    if rows:
        session.execute(sa.insert(table), rows)


def facts_of(line: BusinessLine, request, timeline: list, day: float) -> dict:
    """One request's facts from its timeline (rows with kind, actor_kind, to_state, created_at, id);
    `day` is the calendar's business day in hours."""
    calendar = line.calendar
    clock = clock_of(line, [(e.to_state, micros(e.created_at)) for e in timeline], day)
    filed = timeline[0].created_at
    first = next((e.created_at for e in timeline if is_first_response(e)), None)
    decided = next((e.created_at for e in timeline if e.kind in DECIDED), None)
    return {
        "request_id": request.id,
        "last_event_id": timeline[-1].id,
        "decided_by_id": request.decided_by_id if decided else None,
        "filed_at": filed,
        "filed_day": _day(filed, calendar),
        "first_response_at": first,
        "first_response_day": _day(first, calendar),
        "first_response_s": None if first is None else clock.before(line.at(first)) // PER_SECOND,
        "decided_at": decided,
        "decided_day": _day(decided, calendar),
        "decision_s": None if decided is None else clock.before(line.at(decided)) // PER_SECOND,
    }


def _day(instant: datetime | None, calendar: BusinessCalendar) -> date | None:
    """The team-local date of `instant`."""
    return None if instant is None else instant.astimezone(calendar.zone).date()
