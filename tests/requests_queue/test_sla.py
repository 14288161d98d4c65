"""Specs for a request's SLA clock, derived from its timeline and the team calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from requests_queue.calendar import BusinessCalendar
from requests_queue.models import RequestEvent, RequestEventKind
from requests_queue.models import RequestState as S
from requests_queue.sla.clock import instant_before, is_business_time, request_sla

K = RequestEventKind
PHX = ZoneInfo("America/Phoenix")
CAL = BusinessCalendar.default()


def at(m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    """Phoenix wall-clock time in 2026."""
    return datetime(2026, m, d, hh, mm, tzinfo=PHX)


def timeline(*steps: tuple[K, S, datetime]) -> list[RequestEvent]:
    """Events as the lifecycle writes them, in order."""
    return [
        RequestEvent(id=i, kind=kind, to_state=state, created_at=when.astimezone(UTC))
        for i, (kind, state, when) in enumerate(steps, start=1)
    ]


def filed(when: datetime) -> tuple[K, S, datetime]:
    return (K.filed, S.submitted, when)


def local(value: datetime | None) -> str | None:
    return None if value is None else f"{value.astimezone(PHX):%a %d %b %H:%M}"


# Week of 2 Nov 2026: no holiday. Veterans Day is Wednesday 11 Nov, Thanksgiving Thursday 26.
@pytest.mark.parametrize(
    ("events", "due", "breach", "first_due"),
    [
        ([filed(at(11, 2, 9))], "Wed 04 Nov 17:00", "Fri 06 Nov 17:00", "Mon 02 Nov 17:00"),
        ([filed(at(11, 2, 13))], "Thu 05 Nov 13:00", "Mon 09 Nov 13:00", "Tue 03 Nov 13:00"),
        ([filed(at(11, 6, 19))], "Thu 12 Nov 17:00", "Mon 16 Nov 17:00", "Mon 09 Nov 17:00"),
        ([filed(at(11, 7, 11))], "Thu 12 Nov 17:00", "Mon 16 Nov 17:00", "Mon 09 Nov 17:00"),
        ([filed(at(11, 25, 9))], "Mon 30 Nov 17:00", "Wed 02 Dec 17:00", "Wed 25 Nov 17:00"),
        (
            [
                filed(at(11, 2, 9)),
                (K.claimed, S.in_review, at(11, 2, 10)),
                (K.question, S.awaiting_customer, at(11, 3, 13)),  # 12 h used
                (K.answer, S.in_review, at(11, 9, 10)),  # resumes the next Monday
            ],
            "Tue 10 Nov 14:00",
            "Fri 13 Nov 14:00",  # Veterans Day (Wed 11) does not count
            "Mon 02 Nov 17:00",
        ),
        (
            [
                filed(at(11, 2, 9)),
                (K.claimed, S.in_review, at(11, 2, 10)),
                (K.question, S.awaiting_customer, at(11, 6, 16)),  # Friday, over the weekend
                (K.answer, S.in_review, at(11, 9, 9)),
            ],
            "Wed 04 Nov 17:00",  # reached before the pause: stays in the past
            "Mon 09 Nov 10:00",
            "Mon 02 Nov 17:00",
        ),
        (
            [
                filed(at(11, 2, 9)),
                (K.claimed, S.in_review, at(11, 2, 10)),
                (K.question, S.awaiting_customer, at(11, 3, 9)),
            ],
            None,  # paused before the clock got there
            None,
            "Mon 02 Nov 17:00",
        ),
    ],
    ids=[
        "at-opening",
        "mid-day",
        "after-hours-friday",
        "on-a-saturday",
        "across-thanksgiving",
        "paused-a-week",
        "pause-over-weekend-after-due",
        "still-paused",
    ],
)
def test_deadlines_count_business_time_while_the_clock_runs(events, due, breach, first_due):
    sla = request_sla(CAL, timeline(*events), at(11, 2))
    assert (local(sla.due_at), local(sla.breach_at), local(sla.first_response_due_at)) == (
        due,
        breach,
        first_due,
    )


def test_paused_request_shows_that_it_is_paused_and_how_long_it_ran():
    events = timeline(
        filed(at(11, 2, 9)),
        (K.claimed, S.in_review, at(11, 2, 10)),
        (K.question, S.awaiting_customer, at(11, 3, 13)),
    )
    sla = request_sla(CAL, events, at(11, 20, 12))
    assert sla.is_paused and not sla.is_at_risk(at(11, 20, 12))
    assert sla.active_hours == 12.0
    assert sla.first_response_at == at(11, 2, 10)


@pytest.mark.parametrize(
    ("last", "now", "at_risk", "breached"),
    [
        (None, at(11, 4, 16), False, False),
        (None, at(11, 4, 17), True, False),
        (None, at(11, 9, 9), True, True),
        ((K.approved, S.approved, at(11, 4, 12)), at(11, 30), False, False),
        ((K.rejected, S.rejected, at(11, 5, 12)), at(11, 30), False, False),
        ((K.approved, S.approved, at(11, 9, 12)), at(11, 30), False, True),
        ((K.withdrawn, S.withdrawn, at(11, 9, 12)), at(11, 30), False, True),
    ],
    ids=[
        "before-due",
        "at-due",
        "past-breach",
        "decided-in-time",
        "decided-late-not-breached",
        "decided-after-breach",
        "withdrawn-after-breach",
    ],
)
def test_at_risk_while_open_past_due_and_a_breach_stays_after_closing(last, now, at_risk, breached):
    steps = [filed(at(11, 2, 9)), (K.claimed, S.in_review, at(11, 2, 10))]
    sla = request_sla(CAL, timeline(*steps, *([last] if last else [])), now)
    assert (sla.is_at_risk(now), sla.is_breached(now)) == (at_risk, breached)


def test_a_company_holiday_moves_open_deadlines():
    events = timeline(filed(at(11, 2, 9)))
    with_holiday = BusinessCalendar(added_holidays={date(2026, 11, 3)})
    assert local(request_sla(with_holiday, events, at(11, 2)).due_at) == "Thu 05 Nov 17:00"


def test_a_timeline_must_start_with_the_filing():
    with pytest.raises(ValueError):
        request_sla(CAL, timeline((K.claimed, S.in_review, at(11, 2))), at(11, 2))


@pytest.mark.parametrize("hours", [0, 0.5, 8, 24, 40, 80])
def test_instant_before_is_exactly_that_many_business_hours_back(hours):
    ny = BusinessCalendar(timezone="America/New_York")
    start = datetime(2026, 10, 26, tzinfo=UTC)  # across the November DST change
    for step in range(0, 24 * 21, 5):
        end = start + timedelta(hours=step)
        for cal in (CAL, ny):
            begin = instant_before(cal, end, hours)
            assert cal.business_hours_between(begin, end) == pytest.approx(hours)
            assert hours == 0 or cal.add_business_hours(begin, hours) <= end
            later = begin + timedelta(minutes=1)
            assert hours == 0 or cal.business_hours_between(later, end) < hours


@pytest.mark.parametrize(
    ("now", "working"),
    [
        (at(11, 2, 9), True),
        (at(11, 2, 16, 59), True),
        (at(11, 2, 17), False),
        (at(11, 2, 8, 59), False),
        (at(11, 7, 12), False),
        (at(11, 26, 12), False),
    ],
    ids=["opening", "last-minute", "closing", "before-opening", "saturday", "thanksgiving"],
)
def test_business_time_is_inside_a_working_window(now, working):
    assert is_business_time(CAL, now) is working
