"""Stored SLA clocks, kept in step with the timelines so that nothing is computed per row when
the queue sorts by deadline or the sweep looks for crossed thresholds.

- While a request's clock runs, its base says where the clock would have started had it never
  stopped: the request is due 3 and breaches 5 business days after it. A request that never
  waited for the customer needs nothing stored: its base is its filing time, whatever the
  calendar (`clock_base_at` stays NULL, so filing writes nothing and a backlog loaded with
  plain SQL is already right). After a wait, `clock_base_at` holds the base.
- A request whose clock stopped at least once (waiting for the customer, resumed, or closed
  after its breach) has an `sla_clocks` row: the business time it ran and the deadlines it
  reached, computed with the calendar named by `calendar_key`.

The request lifecycle calls `refresh_clocks_of` with every event that can start or stop the
clock (`moves_clock`), so a question, an answer or a decision moves it in the same transaction.
The sweep calls `refresh_stale_clocks` to catch up after a calendar edit, and for rows written
with plain SQL. What is stored is the engine's clock (`engine.clock_of`); the queue and the
sweep read it back with `engine.running_clock` and `engine.stopped_clock`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from ..calendar import BusinessCalendar
from ..calendar_store import load_calendar
from ..models import ConsentRequest, RequestEvent, RequestState
from ..models.requests import OPEN_STATES
from ..models.sla import SlaClock
from .clock import calendar_key
from .engine import RUNNING, RUNNING_STATES, clock_of, moment
from .line import MICRO, PER_SECOND, BusinessLine, instant_at, line_for

R, E, C = ConsentRequest, RequestEvent, SlaClock
CHUNK = 2000
Moves = Sequence[tuple[RequestState, int]]  # (state entered, when in microseconds since 1970)


@dataclass(frozen=True)
class StoredClock:
    """What is stored of one request's clock (see the module docstring)."""

    base_at: datetime | None  # running after a wait: deadlines 3 / 5 business days after it
    ran_s: int  # business seconds run before it stopped, or before the current run
    due_at: datetime | None
    breach_at: datetime | None
    keeps_row: bool  # False: running since filing, nothing to store


def stored_clock(line: BusinessLine, moves: Moves, day_hours: float) -> StoredClock:
    """The stored form of the clock of a timeline given as (state entered, when) in order,
    instants in microseconds (`line.micros`); `day_hours` is the calendar's business day."""
    if len(moves) == 1 or all(state in RUNNING for state, _ in moves):  # never stopped
        return StoredClock(None, 0, None, None, keeps_row=False)
    clock = clock_of(line, moves, day_hours)
    ran_s, due, breach = clock.ran // PER_SECOND, moment(clock.due), moment(clock.breach)
    if clock.base is not None:
        return StoredClock(instant_at(line.instant(clock.base)), ran_s, due, breach, True)
    waiting = moves[-1][0] is RequestState.awaiting_customer
    # A closed request needs its row only until the sweep records a late breach.
    return StoredClock(None, ran_s, due, breach, waiting or breach is not None)


def moves_clock(event: RequestEvent) -> bool:
    """Whether an event can start or stop the clock: the events `_timelines` reads (a claim,
    a note, a reminder or a reassignment cannot)."""
    if event.from_state is None:
        return True
    running, was_running = event.to_state in RUNNING, event.from_state in RUNNING
    return event.from_state != event.to_state and running != was_running


def refresh_clocks_of(session: Session, request_ids: Iterable[int]) -> int:
    """Recompute the stored clocks of these requests from their timelines (the flush hook)."""
    calendar = load_calendar(session)
    return write_clocks(session, calendar, calendar_key(calendar), sorted(set(request_ids)))


def write_clocks(
    session: Session, calendar: BusinessCalendar, key: str, request_ids: Sequence[int]
) -> int:
    """Compute and store the clocks of `request_ids`, in chunks; returns how many."""
    line, day = line_for(calendar), calendar.hours_per_day
    for start in range(0, len(request_ids), CHUNK):
        chunk = request_ids[start : start + CHUNK]
        clocks = {rid: stored_clock(line, m, day) for rid, m in _timelines(session, chunk)}
        _store(session, key, clocks)
    return len(request_ids)


def _timelines(session: Session, chunk: Sequence[int]):
    """(request id, [(state entered, when), …]) per request, with only the events that start
    or stop the clock: claims, notes, reminders and reassignments cannot move it."""
    running = E.to_state.in_(RUNNING_STATES)
    was_running = E.from_state.in_(RUNNING_STATES)
    # Plain column values, converted here: thousands of rows, no per-value type processing.
    moves = session.execute(
        sa.select(
            E.request_id,
            sa.type_coerce(E.to_state, sa.String),
            sa.type_coerce(E.created_at, sa.String),
        )
        .where(
            E.request_id.in_(chunk),
            sa.or_(
                E.from_state.is_(None), sa.and_(E.from_state != E.to_state, running != was_running)
            ),
        )
        .order_by(E.request_id, E.id)
    ).all()
    for request_id, rows in itertools.groupby(moves, key=lambda row: row[0]):
        yield request_id, [(STATES[state], _micros(when)) for _, state, when in rows]


STATES = {state.value: state for state in RequestState}
_NAIVE_EPOCH = datetime(1970, 1, 1)


def _micros(value: str | datetime) -> int:
    """Microseconds since 1970 of a stored UTC value (a string on SQLite, naive elsewhere)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value - _NAIVE_EPOCH) // MICRO


def _store(session: Session, key: str, clocks: dict[int, StoredClock]) -> None:
    """Replace the chunk's rows and move the bases: a few Core statements, no ORM bookkeeping."""
    if not clocks:
        return
    table, requests = C.__table__, R.__table__
    session.execute(sa.delete(table).where(table.c.request_id.in_(list(clocks))))
    rows = [
        {"request_id": rid, "calendar_key": key, "ran_s": clock.ran_s,
         "due_at": clock.due_at, "breach_at": clock.breach_at}
        for rid, clock in clocks.items()
        if clock.keeps_row
    ]  # fmt: skip
    if rows:
        session.execute(sa.insert(table), rows)
    # Most clocks have no base (waiting or closed): those are cleared in one statement.
    cleared = [rid for rid, clock in clocks.items() if clock.base_at is None]
    if cleared:
        session.execute(
            sa.update(requests)
            .where(requests.c.id.in_(cleared), requests.c.clock_base_at.is_not(None))
            .values(clock_base_at=None)
        )
    based = [{"rid": rid, "base": c.base_at} for rid, c in clocks.items() if c.base_at]
    if based:
        session.execute(
            sa.update(requests)
            .where(requests.c.id == sa.bindparam("rid"))
            .values(clock_base_at=sa.bindparam("base")),
            based,
        )
    for rid, clock in clocks.items():  # loaded requests see the new base without a reload
        loaded = session.identity_map.get(identity_key(R, rid))
        if loaded is not None:
            set_committed_value(loaded, "clock_base_at", clock.base_at)


def refresh_stale_clocks(session: Session, calendar: BusinessCalendar, key: str) -> int:
    """Bring open requests' clocks up to date with the calendar; returns how many were computed.

    Stale are the rows computed with another calendar, and requests that waited for the
    customer but have no row (written with plain SQL, or before clocks were stored).
    """
    is_open = R.state.in_(OPEN_STATES)
    has_row = sa.exists().where(C.request_id == R.id)
    paused_once = sa.exists().where(
        E.request_id == R.id, E.to_state == RequestState.awaiting_customer
    )
    stale = sa.union(
        sa.select(C.request_id).join(R, R.id == C.request_id).where(is_open, C.calendar_key != key),
        sa.select(R.id).where(R.state == RequestState.awaiting_customer, ~has_row),
        sa.select(R.id).where(
            R.state.in_(RUNNING_STATES), R.clock_base_at.is_(None), ~has_row, paused_once
        ),
    )
    ids = sorted(session.scalars(sa.select(stale.subquery().c[0])))
    return write_clocks(session, calendar, key, ids)


def running_past(cutoff: datetime) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses (one per index range) for running requests whose base is at or before
    `cutoff`: those filed by then that never waited, and those with a stored base."""
    running = R.state.in_(RUNNING_STATES)
    return [
        sa.and_(running, R.clock_base_at.is_(None), R.filed_at <= cutoff),
        sa.and_(running, R.clock_base_at <= cutoff),
    ]


def base_of(request: ConsentRequest) -> datetime:
    """A running request's base: due 3 and breached 5 business days after it."""
    return request.clock_base_at or request.filed_at


def forget_closed_clocks(session: Session) -> None:
    """Drop the rows of closed requests once the sweep has recorded what they reached."""
    closed = sa.exists().where(R.id == C.request_id, R.state.not_in(OPEN_STATES))
    session.execute(sa.delete(C).where(closed).execution_options(synchronize_session=False))
