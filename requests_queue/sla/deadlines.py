"""Stored SLA clocks, kept in step with the timelines so that nothing is computed per row when
the queue sorts by deadline, the sweep looks for crossed thresholds or the dashboard sums the
backlog. A request's clock is stored once, on its own row (`consent_requests.clock_*`), for
every request, open or closed, computed with the calendar named by `clock_calendar_key`
(NULL: not computed yet, as for rows written with plain SQL):

- `clock_ran_s`: the business seconds it ran before it stopped (or before its current run).
- `clock_due_at`, `clock_breach_at`: when it reaches 3 and 5 business days (None: it stopped
  before; running: the deadlines ahead).
- `clock_base_mark`: a running clock's base as a position on the calendar's business line, in
  seconds, so that the time on its clock now is `position(now) - clock_base_mark` in SQL (NULL
  while it stands still: then it shows `clock_ran_s`).
- `clock_base_at`: the same base as an instant, for a running clock that waited: where it
  would have started had it never stopped (it is due 3 and breaches 5 business days after it).
  NULL means the filing time (a request that never waited), whatever the calendar, so the
  queue's deadline order is right for rows written with plain SQL too.

The request lifecycle calls `refresh_clocks_of` with every event that can start or stop the
clock (`moves_clock`), so filing, a question, an answer or a decision moves it in the same
transaction. The sweep calls `refresh_stale_clocks` to catch up after a calendar edit, and for
rows written with plain SQL. What is stored is the engine's clock (`engine.clock_of`); the queue
and the sweep read it back with `engine.running_clock` and `engine.stopped_clock`, the dashboard
with `reports.scale.Scale.clock_s`. In SQL, whether a clock has shown N business days by now is
`running_reached` and `stopped_reached` (the sweep, one index range each), and their OR
`reached_now`, which `engine.at_level` turns into levels for the digest, the metrics and the
escalation ranking.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..calendar import BusinessCalendar
from ..calendar_store import load_calendar
from ..models import ConsentRequest, RequestEvent, RequestState
from ..models.requests import OPEN_STATES
from .clock import calendar_key, instant_before
from .engine import BREACH_DAYS, DUE_DAYS, RUNNING, RUNNING_STATES, Reached, clock_of, moment
from .line import MICRO, PER_SECOND, BusinessLine, instant_at, line_for, micros

R, E = ConsentRequest, RequestEvent
CHUNK = 2000
Moves = Sequence[tuple[RequestState, int]]  # (state entered, when in microseconds since 1970)


@dataclass(frozen=True)
class StoredClock:
    """What is stored of one request's clock (see the module docstring)."""

    base_at: datetime | None  # running after a wait: deadlines 3 / 5 business days after it
    base_mark: int | None  # running: the base's position on the business line (s)
    ran_s: int  # business seconds run before it stopped, or before the current run
    due_at: datetime | None
    breach_at: datetime | None


def stored_clock(line: BusinessLine, moves: Moves, day_hours: float) -> StoredClock:
    """The stored form of the clock of a timeline given as (state entered, when) in order,
    instants in microseconds (`line.micros`); `day_hours` is the calendar's business day."""
    clock = clock_of(line, moves, day_hours)
    ran_s, due, breach = clock.ran // PER_SECOND, moment(clock.due), moment(clock.breach)
    if clock.base is None:  # standing still: waiting for the customer, or closed
        return StoredClock(None, None, ran_s, due, breach)
    waited = not all(state in RUNNING for state, _ in moves)
    base_at = instant_at(line.instant(clock.base)) if waited else None  # None: the filing
    return StoredClock(base_at, clock.base // PER_SECOND, ran_s, due, breach)


def moves_clock(event: RequestEvent) -> bool:
    """Whether an event can start or stop the clock: the events `_timelines` reads (a claim,
    a note, a reminder or a reassignment cannot)."""
    if event.from_state is None:
        return True
    running, was_running = event.to_state in RUNNING, event.from_state in RUNNING
    return event.from_state != event.to_state and running != was_running


def start_clock(session: Session, req: ConsentRequest) -> None:
    """Store a request's clock as it is filed (running since `filed_at`) on its row, before
    the row is written: filing writes its clock with the request, no second statement."""
    calendar = load_calendar(session)
    moves = [(RequestState.submitted, micros(req.filed_at))]
    clock = stored_clock(line_for(calendar), moves, calendar.hours_per_day)
    values = (clock.base_at, clock.base_mark, clock.ran_s, clock.due_at, clock.breach_at)
    for name, value in zip(STORED, values, strict=True):
        setattr(req, name, value)
    req.clock_calendar_key = calendar_key(calendar)


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
        timelines = dict(_timelines(session, chunk))
        if len(timelines) < len(chunk):
            timelines.update(_without_events(session, set(chunk) - set(timelines)))
        _store(session, key, {rid: stored_clock(line, m, day) for rid, m in timelines.items()})
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


def _without_events(session: Session, ids: set[int]):
    """Timelines of requests written with plain SQL and no events, as far as the row tells:
    filed at `filed_at` and in their present state since then (so a running one's clock runs
    from its filing, and any other stood still from the start)."""
    for rid, state, filed in session.execute(
        sa.select(R.id, R.state, R.filed_at).where(R.id.in_(ids))
    ):
        moves = [(RequestState.submitted, micros(filed))]
        if state is not RequestState.submitted:
            moves.append((state, micros(filed)))
        yield rid, moves


STATES = {state.value: state for state in RequestState}
_NAIVE_EPOCH = datetime(1970, 1, 1)


def _micros(value: str | datetime) -> int:
    """Microseconds since 1970 of a stored UTC value (a string on SQLite, naive elsewhere)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value - _NAIVE_EPOCH) // MICRO


# The stored clock's columns, each with its value in a `StoredClock`.
STORED = ("clock_base_at", "clock_base_mark", "clock_ran_s", "clock_due_at", "clock_breach_at")


def _store(session: Session, key: str, clocks: dict[int, StoredClock]) -> None:
    """Write the chunk's clocks onto their requests: one Core statement, no ORM bookkeeping."""
    if not clocks:
        return
    if session.get_bind().dialect.name == "postgresql":
        _store_unnest(session, key, clocks)
    else:
        _store_many(session, key, clocks)
    # Loaded requests see the new clock without a reload (the session holds a few; a chunk
    # is thousands).
    loaded = [
        (identity[1][0], obj)
        for identity, obj in session.identity_map.items()
        if identity[0] is R  # (class, primary key, token): no attribute read, no reload
    ]
    for rid, request in loaded:
        clock = clocks.get(rid)
        if clock is not None:
            values = (clock.base_at, clock.base_mark, clock.ran_s, clock.due_at, clock.breach_at)
            for name, value in zip(STORED, values, strict=True):
                set_committed_value(request, name, value)
            set_committed_value(request, "clock_calendar_key", key)


def _store_many(session: Session, key: str, clocks: dict[int, StoredClock]) -> None:
    """SQLite: one UPDATE executed per row (in one call)."""
    requests = R.__table__
    session.execute(
        sa.update(requests)
        .where(requests.c.id == sa.bindparam("rid"))
        .values(
            clock_base_at=sa.bindparam("base"),
            clock_base_mark=sa.bindparam("mark"),
            clock_ran_s=sa.bindparam("ran"),
            clock_due_at=sa.bindparam("due"),
            clock_breach_at=sa.bindparam("breach"),
            clock_calendar_key=key,
        ),
        [
            {
                "rid": rid,
                "base": c.base_at,
                "mark": c.base_mark,
                "ran": c.ran_s,
                "due": c.due_at,
                "breach": c.breach_at,
            }
            for rid, c in clocks.items()
        ],
    )


def _naive(instant: datetime | None) -> datetime | None:
    """Stored as naive UTC (`models.base.UTCDateTime`)."""
    return None if instant is None else instant.astimezone(UTC).replace(tzinfo=None)


def _store_unnest(session: Session, key: str, clocks: dict[int, StoredClock]) -> None:
    """PostgreSQL: one UPDATE … FROM unnest(arrays) for the chunk (a statement per row is a
    round trip each: seven times slower at 100,000 requests)."""
    values = list(clocks.values())
    session.execute(
        sa.text(
            "UPDATE consent_requests AS r SET clock_base_at = v.base, clock_base_mark = v.mark,"
            " clock_ran_s = v.ran, clock_due_at = v.due, clock_breach_at = v.breach,"
            " clock_calendar_key = :key"
            " FROM unnest(CAST(:ids AS integer[]), CAST(:bases AS timestamp[]),"
            " CAST(:marks AS bigint[]), CAST(:rans AS integer[]), CAST(:dues AS timestamp[]),"
            " CAST(:breaches AS timestamp[])) AS v(id, base, mark, ran, due, breach)"
            " WHERE r.id = v.id"
        ),
        {
            "key": key,
            "ids": list(clocks),
            "bases": [_naive(c.base_at) for c in values],
            "marks": [c.base_mark for c in values],
            "rans": [c.ran_s for c in values],
            "dues": [_naive(c.due_at) for c in values],
            "breaches": [_naive(c.breach_at) for c in values],
        },
    )


def stale_clocks(key: str) -> sa.Select:
    """The ids of requests whose stored clock is missing (never computed: written with plain
    SQL, or before clocks were stored), or open and computed with another calendar than the
    one `key` names. Decided requests keep the clock of their time, as the reports do. Each
    part is a range of `ix_consent_requests_clock_key` (one skipping the current key), so it
    costs nothing when every clock is current."""
    key_ = R.clock_calendar_key
    is_open = R.state.in_(OPEN_STATES)
    stale = sa.union_all(
        sa.select(R.id).where(key_.is_(None)),
        sa.select(R.id).where(key_ < key, is_open),
        sa.select(R.id).where(key_ > key, is_open),
    ).subquery()
    return sa.select(stale.c[0])


@dataclass(frozen=True)
class ClockRefresh:
    """What `refresh_stale_clocks` did: clocks computed, or how many it left for the sweep."""

    computed: int = 0
    deferred: int = 0  # stale clocks not computed: more than the caller's limit


def refresh_stale_clocks(
    session: Session, calendar: BusinessCalendar, key: str, *, limit: int | None = None
) -> ClockRefresh:
    """Compute the stale clocks (`stale_clocks`). With `limit`, when there are more than that
    (more than a page view can afford), compute none and say how many there are."""
    query = stale_clocks(key)
    if limit is not None:
        ids = sorted(session.scalars(query.limit(limit + 1)))
        if len(ids) > limit:
            count = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
            return ClockRefresh(deferred=count)
    else:
        ids = sorted(session.scalars(query))
    return ClockRefresh(computed=write_clocks(session, calendar, key, ids))


def running_past(cutoff: datetime) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses (one per index range) for running requests whose base is at or before
    `cutoff`: those filed by then that never waited, and those with a stored base. Each is
    true or false, never NULL, so a caller may negate them (`engine.at_level` does)."""
    running = R.state.in_(RUNNING_STATES)
    return [
        sa.and_(running, R.clock_base_at.is_(None), R.filed_at <= cutoff),
        sa.and_(running, R.clock_base_at.is_not(None), R.clock_base_at <= cutoff),
    ]


def running_reached(
    calendar: BusinessCalendar, now: datetime, days: int
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses (one per index range) for running requests whose clock has shown `days`
    business days by `now` (`engine.DAYS` of a level): their base lies that far before."""
    cutoff = instant_before(calendar, now, days * calendar.hours_per_day)
    return [] if cutoff is None else running_past(cutoff)


def stopped_reached(now: datetime, days: int) -> sa.ColumnElement[bool]:
    """WHERE clause for requests whose stored stopped clock had shown `days` business days by
    `now` (ask it of requests whose clock is not running); false, never NULL, when nothing is
    stored."""
    deadline = {DUE_DAYS: R.clock_due_at, BREACH_DAYS: R.clock_breach_at}[days]
    return sa.and_(deadline.is_not(None), deadline <= now)


def reached_now(calendar: BusinessCalendar, now: datetime) -> Reached:
    """THE `reached` of open requests at `now`, for `engine.at_level`: whether a request's
    stored clock has shown N business days by then. A running clock is read from its base
    (`running_reached`), one waiting for the customer from the deadlines it reached before it
    stopped (`stopped_reached`); a running clock that waited also keeps the deadlines it
    reached before the wait, and the earlier one counts (`engine.running_clock`: while the
    clock is fresh its base says the same).

    This is how the queue's countdowns read the same rows (`countdown.queue_countdowns`), so the
    digest, the metrics and the escalation ranking count what the queue shows, whenever the
    last sweep ran. Like the queue it reads the stored clocks as they are, and writes nothing:
    after a calendar edit, a running clock's base is read with the new calendar and stored
    deadlines stay as they are until the sweep recomputes them (`refresh_stale_clocks`).
    Every condition is true or false, never NULL, so `at_level` can negate it."""
    waiting = R.state == RequestState.awaiting_customer
    waited = sa.and_(
        R.state.in_(RUNNING_STATES),
        R.clock_base_at.is_not(None),
        R.clock_calendar_key.is_not(None),
    )

    def condition(days: int) -> sa.ColumnElement[bool]:
        stored = stopped_reached(now, days)
        return sa.or_(
            *running_reached(calendar, now, days),
            sa.and_(waiting, stored),
            sa.and_(waited, stored),
        )

    conditions = {days: condition(days) for days in (DUE_DAYS, BREACH_DAYS)}

    def reached(days: int) -> sa.ColumnElement[bool]:
        return conditions[days]

    return reached


def base_of(request: ConsentRequest) -> datetime:
    """A running request's base: due 3 and breached 5 business days after it."""
    return request.clock_base_at or request.filed_at
