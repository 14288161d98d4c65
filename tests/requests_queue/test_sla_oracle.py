"""The SLA engine against a brute-force oracle: random timelines walked minute by minute.

Each example files a request at a random minute, then claims, asks, answers and decides at
random later minutes, across weekends, US holidays, a company holiday and the end of daylight
saving time in New York (Sunday 1 November 2026). The oracle knows nothing of the engine: it
steps through every minute, asks the team's local wall clock whether that minute is business
time (Mon-Fri 09:00-17:00, not a holiday), counts the minutes the clock runs, and notes when
the count reaches 3 and 5 business days. The engine must agree to the minute: time on the
clock, due, breach, at risk, breached and paused, both straight from the timeline and read
back from the stored clock the queue and the sweep use.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from requests_queue.calendar import BusinessCalendar
from requests_queue.models import RequestEvent, RequestEventKind
from requests_queue.models import RequestState as S
from requests_queue.requests.window import request_window
from requests_queue.sla.clock import request_sla
from requests_queue.sla.deadlines import stored_clock
from requests_queue.sla.engine import running_clock, stopped_clock
from requests_queue.sla.line import instant_at, line_for, micros

NY = ZoneInfo("America/New_York")
OFFSITE = date(2026, 11, 4)  # a company holiday, the Wednesday after the DST change
CALENDAR = BusinessCalendar(timezone="America/New_York", added_holidays={OFFSITE})
CLOSED = set(holidays.country_holidays("US", years=2026)) | {OFFSITE}
START = datetime(2026, 10, 19, tzinfo=UTC)  # two weeks before the DST change
MINUTE = timedelta(minutes=1)
DAY_MINUTES = 8 * 60
K = RequestEventKind
RUNS = (S.submitted, S.in_review, S.pending_second_review)  # the states the clock runs in

# What each action does from each state: (event kind, state after).
MOVES = {
    S.submitted: [(K.claimed, S.in_review), (K.withdrawn, S.withdrawn)],
    S.in_review: [
        (K.question, S.awaiting_customer),
        (K.approved, S.approved),
        (K.rejected, S.rejected),
        (K.assigned, S.in_review),
        (K.note, S.in_review),
        (K.first_approval, S.pending_second_review),
    ],
    S.pending_second_review: [
        (K.approved, S.approved),
        (K.returned, S.in_review),
        (K.note, S.pending_second_review),
    ],
    S.awaiting_customer: [(K.answer, S.in_review), (K.warned, S.awaiting_customer)],
}


def is_business_minute(minute: datetime) -> bool:
    """The oracle's calendar: the local wall clock, weekdays 09:00-17:00, minus holidays."""
    return _business_hour(minute.replace(minute=0))  # New York's offsets are whole hours


@cache
def _business_hour(hour: datetime) -> bool:
    local = hour.astimezone(NY)
    return local.weekday() < 5 and 9 <= local.hour < 17 and local.date() not in CLOSED


def walk(steps: list[tuple[S, datetime]], now: datetime) -> dict:
    """Minute by minute: the time on the clock at `now`, and when it reached 3 and 5 days."""
    state_at = {when: state for state, when in steps}
    state, ran, on_clock, reached = None, 0, None, {}
    minute = steps[0][1]
    while minute < now or len(reached) < 2:
        state = state_at.get(minute, state)
        if minute == now:
            on_clock = ran
        if not state.is_open and minute >= now:
            break  # nothing more can happen
        if state in RUNS and is_business_minute(minute):
            ran += 1
            for days in (3, 5):
                if ran == days * DAY_MINUTES:
                    reached[days] = minute + MINUTE  # the end of the minute that got there
        if state is S.awaiting_customer and minute >= now:
            break  # paused from here on: no deadline ahead until an answer
        minute += MINUTE
    state = state_at[max(t for t in state_at if t <= now)]
    ran = ran if on_clock is None else on_clock
    return {"ran": ran, "due": reached.get(3), "breach": reached.get(5), "state": state}


timelines = st.tuples(
    st.integers(0, 30 * 24 * 60),  # filing minute after START
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4 * 24 * 60)), max_size=8),
    st.integers(0, 12 * 24 * 60),  # "now": minutes after the last event
)


def build(filing: int, actions: list[tuple[int, int]]) -> list[tuple[K, S, datetime]]:
    """A legal timeline: each action picks one of the moves of the state it is in."""
    when, state = START + filing * MINUTE, S.submitted
    steps = [(K.filed, S.submitted, when)]
    for choice, gap in actions:
        if not state.is_open:
            break
        kind, state = MOVES[state][choice % len(MOVES[state])]
        when += max(gap, 1) * MINUTE  # one event per minute at most
        steps.append((kind, state, when))
    return steps


@given(timelines)
# Due at a Wednesday's close, then a wait across Thursday's first business minute: read back
# from the base alone, the due moved to Thursday 09:01 (found by CI).
@example((0, [(0, 0), (0, 4660), (0, 0), (0, 0), (1, 437), (0, 0)], 0))
# Filed Monday 10:00, asked Friday 10:00 after 32 business hours: waiting past the due time,
# which the window keeps while it projects the breach from an answer now.
@example((14 * 60, [(0, 1), (0, 4 * 24 * 60)], 60))
def test_the_engine_agrees_with_a_minute_by_minute_walk(timeline):
    filing, actions, after = timeline
    steps = build(filing, actions)
    now = steps[-1][2] + after * MINUTE
    truth = walk([(state, when) for _, state, when in steps], now)

    events = [
        RequestEvent(id=i, kind=kind, to_state=state, created_at=when)
        for i, (kind, state, when) in enumerate(steps, start=1)
    ]
    sla = request_sla(CALENDAR, events, now)
    line = line_for(CALENDAR)
    assert sla.clock.before(line.at(now)) == truth["ran"] * 60_000_000
    assert sla.active_hours * 60 == pytest.approx(truth["ran"])
    assert (sla.due_at, sla.breach_at) == (truth["due"], truth["breach"])
    is_open = truth["state"].is_open
    assert sla.is_paused == (truth["state"] is S.awaiting_customer)
    assert sla.is_at_risk(now) == (is_open and truth["due"] is not None and truth["due"] <= now)
    assert sla.is_breached(now) == (truth["breach"] is not None and truth["breach"] <= now)

    # The stored form, read back as the queue and the sweep read it, gives the same clock.
    stored = stored_clock(line, [(s, micros(w)) for _, s, w in steps], CALENDAR.hours_per_day)
    if truth["state"] in RUNS:
        reached = (stored.due_at, stored.breach_at) if stored.base_at is not None else None
        base = stored.base_at or steps[0][2]
        clock = running_clock(line, base, CALENDAR.hours_per_day, reached)
        assert clock.on_clock(line.at(now)) == truth["ran"] * 60_000_000
        # What the dashboard reads in SQL: the time on the clock from the base's mark.
        assert line.seconds(now) - stored.base_mark == truth["ran"] * 60
    else:
        assert stored.base_at is None and stored.base_mark is None
        clock = stopped_clock(stored.ran_s, stored.due_at, stored.breach_at, 8)
        assert clock.ran == truth["ran"] * 60_000_000
    due = None if clock.due is None else instant_at(clock.due)
    breach = None if clock.breach is None else instant_at(clock.breach)
    assert (due, breach) == (truth["due"], truth["breach"])

    # The customer's "expected by" and "at the latest", read from the same stored clock; while
    # waiting for the customer, as if the answer came now (the oracle walks that timeline).
    request = SimpleNamespace(
        state=truth["state"],
        filed_at=steps[0][2],
        clock_base_at=stored.base_at,
        clock_ran_s=stored.ran_s,
        clock_due_at=stored.due_at,
        clock_breach_at=stored.breach_at,
        clock_calendar_key="stored",
    )
    window = request_window(CALENDAR, request, now)
    if not is_open:
        assert window is None
        return
    paused = truth["state"] is S.awaiting_customer
    if paused:
        truth = walk([*((state, when) for _, state, when in steps), (S.in_review, now)], now)
    assert (window.expected_by, window.latest) == (truth["due"], truth["breach"])
    assert window.is_paused == paused
    assert window.is_late == (not paused and truth["due"] <= now)
