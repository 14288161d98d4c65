"""Specs for the stored SLA clocks: the same deadlines as the timeline's clock, kept in step
with every event, rebuilt by the sweep, and read by the queue's countdowns."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from requests_queue.calendar import BusinessCalendar
from requests_queue.calendar_store import (
    CalendarInput,
    add_holiday,
    load_calendar,
    remove_holiday,
    update_calendar,
)
from requests_queue.models import (
    ConsentRequest,
    RejectReason,
    RequestEvent,
    RequestEventKind,
    SlaEvent,
)
from requests_queue.models import RequestState as S
from requests_queue.models import SlaThreshold as T
from requests_queue.requests.timeline import request_timelines
from requests_queue.sla.clock import request_sla
from requests_queue.sla.countdown import queue_countdowns, span_text
from requests_queue.sla.deadlines import base_of, stored_clock
from requests_queue.sla.line import BusinessLine, instant_at, micros
from requests_queue.sla.sweep import sweep_sla
from tests.conftest import actor_of, play_timeline

K = RequestEventKind
PHX, NYC = ZoneInfo("America/Phoenix"), ZoneInfo("America/New_York")
CAL = BusinessCalendar.default()
NY = BusinessCalendar(timezone="America/New_York")
URL = "http://desk.example"


def at(m: int, d: int, hh: int = 9, mm: int = 0, zone=PHX) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=zone)


R = ConsentRequest
STORED = (R.clock_ran_s, R.clock_due_at, R.clock_breach_at)


class Stored(tuple):
    """A request's stored stopped clock as read back with SQL: (ran_s, due_at, breach_at)."""

    ran_s = property(lambda self: self[0])
    due_at = property(lambda self: self[1])
    breach_at = property(lambda self: self[2])


def stored(session, request_id: int) -> Stored | None:
    """The request's stored clock, None when it stores none."""
    row = session.execute(
        sa.select(*STORED).where(R.id == request_id, R.clock_calendar_key.is_not(None))
    ).one_or_none()
    return None if row is None else Stored(row)


def events(*steps: tuple[K, S, datetime]) -> list[RequestEvent]:
    return [
        RequestEvent(id=i, kind=kind, to_state=state, created_at=when.astimezone(UTC))
        for i, (kind, state, when) in enumerate(steps, start=1)
    ]


def filed(when):
    return (K.filed, S.submitted, when)


def claim(when):
    return (K.claimed, S.in_review, when)


def ask(when):
    return (K.question, S.awaiting_customer, when)


def answer(when):
    return (K.answer, S.in_review, when)


# (calendar, timeline): filings at opening, at night, on a weekend, over Thanksgiving; waits over
# a weekend and across the end of daylight saving time in New York (Sunday 1 November 2026).
TIMELINES = {
    "never-waited": (CAL, [filed(at(11, 2, 9))]),
    "filed-friday-night": (CAL, [filed(at(11, 6, 19)), claim(at(11, 9, 10))]),
    "over-thanksgiving": (CAL, [filed(at(11, 24, 15)), claim(at(11, 24, 16))]),
    "still-waiting": (CAL, [filed(at(11, 2, 9)), claim(at(11, 2, 10)), ask(at(11, 3, 13))]),
    "waiting-after-due": (CAL, [filed(at(11, 2, 9)), claim(at(11, 2, 10)), ask(at(11, 5, 9))]),
    "answered": (
        CAL,
        [filed(at(11, 2, 9)), claim(at(11, 2, 10)), ask(at(11, 3, 13)), answer(at(11, 9, 10))],
    ),
    "answered-after-due": (
        CAL,
        [filed(at(11, 2, 9)), claim(at(11, 2, 10)), ask(at(11, 6, 16)), answer(at(11, 9, 9))],
    ),
    "twice-over-dst": (
        NY,
        [
            filed(at(10, 29, 11, zone=NYC)),
            claim(at(10, 29, 12, zone=NYC)),
            ask(at(10, 30, 15, zone=NYC)),
            answer(at(11, 2, 8, zone=NYC)),  # before opening: resumes at 09:00 EST
            ask(at(11, 2, 13, 30, zone=NYC)),
            answer(at(11, 3, 10, 15, zone=NYC)),
        ],
    ),
    "rejected-after-breach": (
        CAL,
        [filed(at(11, 2, 9)), claim(at(11, 2, 10)), (K.rejected, S.rejected, at(11, 10, 12))],
    ),
    "withdrawn-in-time": (
        CAL,
        [filed(at(11, 2, 9)), (K.withdrawn, S.withdrawn, at(11, 3, 12))],
    ),
}


@pytest.mark.parametrize("name", list(TIMELINES))
def test_the_stored_clock_gives_the_timelines_deadlines(name):
    calendar, steps = TIMELINES[name]
    timeline = events(*steps)
    now = steps[-1][2] + timedelta(days=1)
    sla = request_sla(calendar, timeline, now)
    moves = [(e.to_state, micros(e.created_at)) for e in timeline]
    clock = stored_clock(BusinessLine(calendar), moves, calendar.hours_per_day)
    line = BusinessLine(calendar)
    # Stored for every request: the deadlines it reaches (or reached), as the timeline says.
    assert (clock.due_at, clock.breach_at) == (sla.due_at, sla.breach_at)
    if sla.state in (S.submitted, S.in_review):  # running: deadlines follow from the base
        base = clock.base_at or timeline[0].created_at
        assert calendar.add_business_hours(base, 24) == sla.due_at or sla.due_at < now
        assert calendar.add_business_hours(base, 40) == sla.breach_at
        assert (clock.base_at is not None) == (len(timeline) > 2)  # NULL: it never waited
        assert clock.base_mark == line.seconds(base)
        assert line.seconds(now) - clock.base_mark == pytest.approx(sla.active_hours * 3600, abs=1)
    else:
        assert clock.base_at is None and clock.base_mark is None
        assert clock.ran_s == pytest.approx(sla.active_hours * 3600, abs=1)


def opened(customer, agent) -> list:
    """Filed Monday 2 November 09:00 and claimed at 10:00 (Phoenix): due Wednesday 17:00,
    breached Friday 17:00."""
    return [(at(11, 2, 9), "file", customer), (at(11, 2, 10), "claim", agent)]


OFFSITE = BusinessCalendar(added_holidays={date(2026, 11, 3)})


@pytest.mark.parametrize("calendar", [CAL, NY, OFFSITE], ids=["phoenix", "new-york", "offsite"])
def test_the_business_line_agrees_with_the_calendar(calendar):
    line = BusinessLine(calendar)
    start = datetime(2026, 10, 24, tzinfo=UTC)  # across the end of daylight saving time
    for step in range(0, 24 * 21 * 4, 7):  # every 1 h 45 min for three weeks
        a = start + timedelta(minutes=15 * step)
        b = a + timedelta(hours=step % 97, microseconds=step)
        here, there = line.position(micros(a)), line.position(micros(b))
        assert (there - here) / 3.6e9 == pytest.approx(calendar.business_hours_between(a, b))
        for hours in (0.5, 8, 24, 40):
            reached = instant_at(line.instant(here + round(hours * 3.6e9)))
            assert reached == calendar.add_business_hours(a, hours)


def test_a_request_that_never_waited_stores_its_clock_from_the_filing(session, customer):
    req = play_timeline(session, customer, [(at(11, 2, 9), "file", customer)])
    assert req.clock_base_at is None  # the filing is its base
    assert stored(session, req.id) == (0, at(11, 4, 17), at(11, 6, 17))
    assert req.clock_base_mark == BusinessLine(CAL).seconds(at(11, 2, 9))


def test_every_event_moves_the_stored_clock_in_the_same_transaction(session, customer, agent):
    asked = (at(11, 3, 13), "ask", agent)  # 12 business hours after filing
    req = play_timeline(session, customer, [*opened(customer, agent), asked])
    clock = stored(session, req.id)
    assert (clock.ran_s, clock.due_at, req.clock_base_at) == (12 * 3600, None, None)
    from requests_queue.requests.lifecycle import answer_question

    answer_question(session, req, "Footer form.", actor_of(customer), at(11, 9, 10), base_url=URL)
    session.commit()
    # 12 h ran before the question; the clock resumes Monday 10:00 as if it began 12 h earlier.
    assert req.clock_base_at == at(11, 5, 14)
    assert stored(session, req.id).due_at == at(11, 10, 14)
    assert CAL.add_business_hours(base_of(req), 24) == at(11, 10, 14)


def test_a_decision_after_the_breach_keeps_its_clock_and_the_sweep_records_it_once(
    session, customer, agent
):
    rejected = (at(11, 10, 12), "reject", agent)
    req = play_timeline(session, customer, [*opened(customer, agent), rejected])
    assert stored(session, req.id).breach_at == at(11, 6, 17)
    counts = sweep_sla(session, load_calendar(session), at(11, 10, 13), base_url=URL)
    session.commit()
    assert (counts["breached"], counts["notified"], counts["emails"]) == (1, 0, 0)
    # The clock stays (the dashboard reads it); the next sweeps record nothing again.
    assert stored(session, req.id) == (51 * 3600, at(11, 4, 17), at(11, 6, 17))
    for hour in (14, 15):
        counts = sweep_sla(session, load_calendar(session), at(11, 10, hour), base_url=URL)
        assert counts["breached"] == 0


def test_a_breach_found_after_a_calendar_edit_is_recorded_for_a_closed_request(
    session, customer, agent, manager
):
    """The sweep looks for closed requests' breaches past its last run only while the calendar
    stays the same: a decision measured with an edited calendar may reach further back."""
    # Filed Tuesday 10 November; Veterans Day (Wednesday) is off: breached Tue 17 Nov 17:00.
    filed = [(at(11, 10, 9), "file", customer), (at(11, 10, 10), "claim", agent)]
    req = play_timeline(session, customer, filed)
    assert stored(session, req.id).breach_at == at(11, 17, 17)
    sweep_sla(session, load_calendar(session), at(11, 17, 16), base_url=URL)  # not yet
    session.commit()
    # Veterans Day is worked after all: the breach was Monday 16 November, before that sweep.
    remove_holiday(session, date(2026, 11, 11), "Worked", actor_of(manager), at(11, 17, 16, 10))
    session.commit()
    from requests_queue.requests.lifecycle import reject_request

    reject_request(
        session, req, RejectReason.other, "No evidence.", actor_of(agent), at(11, 17, 16, 30),
        base_url=URL,
    )  # fmt: skip
    session.commit()
    assert stored(session, req.id).breach_at == at(11, 16, 17)
    counts = sweep_sla(session, load_calendar(session), at(11, 17, 16, 45), base_url=URL)
    assert (counts["breached"], counts["notified"]) == (1, 0)


def test_the_sweep_rebuilds_clocks_lost_or_written_with_plain_sql(session, customer, agent):
    asked = [*opened(customer, agent), (at(11, 3, 13), "ask", agent)]
    waiting = play_timeline(session, customer, asked)
    answered = play_timeline(session, customer, [*asked, (at(11, 9, 10), "answer", customer)])
    before = _clocks(session)
    base = answered.clock_base_at
    # As a backlog loaded with SQL would be:
    session.execute(
        sa.update(ConsentRequest).values(
            clock_base_at=None, clock_calendar_key=None, **dict.fromkeys(c.key for c in STORED)
        )
    )
    session.commit()
    counts = sweep_sla(session, load_calendar(session), at(11, 9, 11), base_url=URL)
    session.commit()
    session.expire_all()
    assert counts["clocks_computed"] == 2
    after = _clocks(session)
    assert after == before and set(after) == {waiting.id, answered.id}
    assert session.get(ConsentRequest, answered.id).clock_base_at == base


def _clocks(session) -> dict:
    rows = session.execute(sa.select(R.id, *STORED).where(R.clock_calendar_key.is_not(None)))
    return {request_id: tuple(clock) for request_id, *clock in rows}


def test_marks_follow_the_stored_clocks_across_daylight_saving_time(
    session, customer, agent, manager
):
    hours = {wd: (time(9), time(17)) for wd in range(5)}
    ny_team = CalendarInput("America/New_York", "US", None, hours)
    update_calendar(session, ny_team, actor_of(manager), at(10, 1))
    add_holiday(session, date(2026, 11, 4), "Offsite", actor_of(manager), at(10, 1))
    session.commit()

    def ny(d: int, hh: int, mm: int = 0) -> datetime:
        return at(10 if d > 20 else 11, d, hh, mm, zone=NYC)

    plans = [
        [(ny(29, 11), "file", customer)],
        [(ny(30, 16), "file", customer), (ny(30, 16, 30), "claim", agent)],
        [(ny(29, 11), "file", customer), (ny(29, 12), "claim", agent),
         (ny(30, 15), "ask", agent), (ny(2, 8), "answer", customer)],
        [(ny(28, 9), "file", customer), (ny(28, 10), "claim", agent), (ny(2, 10), "ask", agent)],
    ]  # fmt: skip
    requests = [play_timeline(session, customer, plan) for plan in plans]
    calendar = load_calendar(session)
    nows = [(11, 2, 12), (11, 3, 9), (11, 3, 16), (11, 5, 16), (11, 6, 10), (11, 9, 12)]
    for m, d, hh in nows:
        now = at(m, d, hh, zone=NYC)
        sweep_sla(session, calendar, now, base_url=URL)
        session.commit()
        marks = set(session.execute(sa.select(SlaEvent.request_id, SlaEvent.threshold)))
        expected = set()
        for request_id, timeline in request_timelines(session, [r.id for r in requests]).items():
            sla = request_sla(calendar, timeline, now)
            expected |= {(request_id, T.at_risk)} if sla.is_at_risk(now) else set()
            expected |= {(request_id, T.breached)} if sla.is_breached(now) else set()
        assert marks == expected, now
    assert len(marks) >= 4  # the table did cross thresholds


@pytest.mark.parametrize(
    ("seconds", "short", "long"),
    [
        (0, "under 1 min", "less than a minute"),
        (59, "under 1 min", "less than a minute"),
        (45 * 60, "45 min", "45 minutes"),
        (5 * 3600, "5 h", "5 hours"),
        (5 * 3600 + 20 * 60, "5 h 20 min", "5 hours and 20 minutes"),
        (8 * 3600, "1 d", "1 business day"),
        (11 * 3600 + 59 * 60, "1 d 3 h", "1 business day and 3 hours"),
        (16 * 3600, "2 d", "2 business days"),
    ],
)
def test_business_time_in_words(seconds, short, long):
    assert span_text(seconds, 8) == short
    assert span_text(seconds, 8, long=True) == long


@pytest.mark.parametrize(
    ("now", "level", "text"),
    [
        (at(11, 3, 14), "on_track", "due in 1 d 3 h"),
        (at(11, 4, 17), "at_risk", "breach in 2 d"),
        (at(11, 6, 12), "at_risk", "breach in 5 h"),
        (at(11, 9, 11), "breached", "breached 2 h ago"),
        (at(11, 7, 12), "breached", "breached Fri 17:00 MST"),  # no business time since
    ],
)
def test_the_queue_counts_down_in_business_time(session, customer, agent, now, level, text):
    req = play_timeline(session, customer, opened(customer, agent))
    countdown = queue_countdowns(session, CAL, [req], now)[req.id]
    assert (countdown.level, countdown.text) == (level, text)
    assert countdown.label == {"on_track": "", "at_risk": "At risk", "breached": "Breached"}[level]


def test_a_paused_request_says_so_and_what_it_has_left(session, customer, agent):
    steps = opened(customer, agent)
    early = play_timeline(session, customer, [*steps, (at(11, 3, 13), "ask", agent)])
    late = play_timeline(session, customer, [*steps, (at(11, 5, 9), "ask", agent)])
    countdowns = queue_countdowns(session, CAL, [early, late], at(11, 20, 12))
    assert {c.text for c in countdowns.values()} == {"paused — waiting for customer"}
    assert (countdowns[early.id].label, countdowns[early.id].note) == (
        "",
        "3 d 4 h left when it resumes",  # 12 of the 40 business hours ran
    )
    assert (countdowns[late.id].label, countdowns[late.id].note) == (
        "At risk",
        "2 d left when it resumes",  # asked just after the due time
    )


def test_a_deadline_reached_before_a_wait_keeps_its_instant_when_the_clock_resumes(
    session, customer, agent
):
    # Breached Friday 17:00; asked Monday 13:00 and answered Tuesday 13:00, a business day of
    # waiting. Read back from the base alone, the breach would move to Monday's close.
    steps = [
        *opened(customer, agent),
        (at(11, 9, 13), "ask", agent),
        (at(11, 10, 13), "answer", customer),
    ]
    req = play_timeline(session, customer, steps)
    countdown = queue_countdowns(session, CAL, [req], at(11, 10, 15))[req.id]
    assert (countdown.level, countdown.text) == ("breached", "breached 6 h ago")
    assert countdown.deadline_at == at(11, 6, 17)
