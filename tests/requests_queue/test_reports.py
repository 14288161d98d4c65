"""Specs for the dashboard figures, on hand-made timelines in Phoenix business hours.

Two weeks of November 2026, Mon-Fri 09:00-17:00 America/Phoenix; Wednesday 11 November
(Veterans Day) is a holiday. "Now" is Friday 13 November, 12:00.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from requests_queue.calendar import BusinessCalendar
from requests_queue.calendar_store import load_calendar
from requests_queue.errors import ValidationError
from requests_queue.models import ConsentRequest, ReportFact, ReportFactsState, Role
from requests_queue.reports import between, build_dashboard, last_days, refresh_report_facts
from requests_queue.sla.clock import calendar_key
from requests_queue.sla.line import BusinessLine, line_for
from tests.conftest import play_timeline

PHX = ZoneInfo("America/Phoenix")
H = 3600


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=PHX)


NOW = at(13, 12)


@pytest.fixture
def staff(make_user, agent, manager):
    """The agent and the manager who work the requests."""
    return agent, manager


@pytest.fixture
def requests(session, customer, staff):
    """Seven requests covering the cases the dashboard distinguishes."""
    agent, manager = staff
    c = customer
    play = lambda *steps: play_timeline(session, c, steps)  # noqa: E731
    return {
        # 12 business hours: within 3 business days.
        "fast": play((at(2, 9), "file", c), (at(2, 11), "claim", agent),
                     (at(3, 13), "approve", agent)),
        # 18 hours on the clock: the wait for the customer (Mon 12:00 to Thu 09:00) is not counted.
        "paused": play((at(2, 10), "file", c), (at(2, 10, 30), "claim", manager),
                       (at(2, 12), "ask", manager), (at(5, 9), "answer", c),
                       (at(6, 17), "approve", manager)),
        # Breached Fri 6 Nov 17:00, rejected 12 business hours later (52 on the clock).
        "late": play((at(2, 9), "file", c), (at(6, 9), "claim", agent),
                     (at(10, 13), "reject", agent)),
        # Open, never touched: 59 hours on the clock now, breached Mon 9 Nov 17:00.
        "ignored": play((at(3, 9), "file", c)),
        # Open, 25 hours on the clock, waiting for the customer: at risk, paused.
        "waiting": play((at(6, 9), "file", c), (at(6, 10), "claim", agent),
                        (at(12, 10), "ask", agent)),
        # Open, 2 hours old, unassigned.
        "fresh": play((at(13, 10), "file", c)),
        # Withdrawn: not a decision.
        "withdrawn": play((at(9, 9), "file", c), (at(9, 12), "withdraw", c)),
    }  # fmt: skip


@pytest.fixture
def dashboard(session, requests):
    """The dashboard of 2-13 November, read at NOW after a refresh."""
    calendar = load_calendar(session)
    refresh_report_facts(session, calendar, NOW)
    session.commit()
    return build_dashboard(
        session, calendar, between(calendar, NOW, date(2026, 11, 2), date(2026, 11, 13)), NOW
    )


def test_achievement_counts_decisions_within_three_and_five_business_days(dashboard):
    s = dashboard.summary
    assert (s.decided, s.within_due, s.within_breach) == (3, 2, 2)
    assert s.due_pct == pytest.approx(200 / 3) and s.breach_pct == pytest.approx(200 / 3)


def test_time_awaiting_the_customer_is_not_counted(session, dashboard, requests):
    fact = session.get(ReportFact, requests["paused"].id)
    assert fact.decision_s == 18 * H
    assert session.get(ReportFact, requests["fast"].id).decision_s == 12 * H


def test_breaches_say_how_many_business_hours_late(dashboard, requests):
    s = dashboard.summary
    assert s.breaches == dashboard.breaches_total == 2
    assert s.late_avg_s == 15.5 * H and s.late_max_s == 19 * H
    late = {r.request_id: r.late_s for r in dashboard.breaches}
    assert late == {requests["late"].id: 12 * H, requests["ignored"].id: 19 * H}
    assert [r.request_id for r in dashboard.breaches] == [
        requests["ignored"].id,
        requests["late"].id,
    ]


def test_median_and_90th_percentile_interpolate_like_percentile_cont(dashboard):
    s = dashboard.summary
    assert s.decision_s == {0.5: 18 * H, 0.9: pytest.approx(45.2 * H)}
    assert s.responses == 4  # claims and questions; the untouched and the fresh have none
    assert s.response_s == {0.5: 1.5 * H, 0.9: pytest.approx(23 * H)}


def test_backlog_buckets_open_requests_by_business_days_on_the_clock(dashboard):
    rows = [(b.label, b.open, b.unassigned, b.paused) for b in dashboard.backlog]
    assert rows == [("0–1", 1, 1, 0), ("1–3", 0, 0, 0), ("3–5", 1, 0, 1), ("5+", 1, 1, 0)]
    assert (dashboard.open_total, dashboard.at_risk_total, dashboard.breached_total) == (3, 1, 1)


def test_lists_show_the_open_requests_at_risk_and_breached(dashboard, requests):
    assert [r.request_id for r in dashboard.breached] == [requests["ignored"].id]
    [risk] = dashboard.at_risk
    assert risk.request_id == requests["waiting"].id
    assert risk.clock_s == 25 * H and risk.assignee == "agent@support.example"


def test_per_agent_table_counts_held_decided_and_breaches(dashboard, staff):
    agent, manager = staff
    rows = {
        a.user_id: (a.assigned, a.decided, a.within_breach, a.breaches) for a in dashboard.agents
    }
    assert rows == {agent.id: (1, 2, 1, 1), manager.id: (0, 1, 1, 0)}


def test_weekly_series_counts_filed_and_decided_per_local_week(dashboard):
    rows = [(w.week, w.filed, w.decided, w.breach_pct) for w in dashboard.weekly]
    assert rows == [(date(2026, 11, 2), 5, 2, 100.0), (date(2026, 11, 9), 2, 1, 0.0)]


def test_a_period_that_ends_before_a_breach_does_not_count_it(session, requests):
    calendar = load_calendar(session)
    refresh_report_facts(session, calendar, NOW)
    first_week = between(calendar, NOW, date(2026, 11, 2), date(2026, 11, 8))
    board = build_dashboard(session, calendar, first_week, NOW)
    assert [r.request_id for r in board.breaches] == [requests["late"].id]
    assert board.summary.decided == 2 and [w.week for w in board.weekly] == [date(2026, 11, 2)]


def test_an_open_request_grows_later_without_a_refresh(session, requests):
    calendar = load_calendar(session)
    refresh_report_facts(session, calendar, NOW)
    later = at(13, 16)
    period = between(calendar, later, date(2026, 11, 2), date(2026, 11, 13))
    board = build_dashboard(session, calendar, period, later)
    assert {r.request_id: r.late_s for r in board.breached} == {requests["ignored"].id: 23 * H}


def test_refresh_recomputes_only_requests_with_new_events(session, requests, staff):
    calendar = load_calendar(session)
    assert refresh_report_facts(session, calendar, NOW) == {"facts_computed": 7}
    assert refresh_report_facts(session, calendar, NOW) == {"facts_computed": 0}
    assert refresh_report_facts(session, calendar, NOW, recent_only=True) == {"facts_computed": 0}
    agent, manager = staff
    from requests_queue.requests.lifecycle import assign_request
    from tests.conftest import actor_of

    assign_request(session, requests["ignored"], manager, actor_of(manager), at(13, 12))
    assert refresh_report_facts(session, calendar, NOW, recent_only=True) == {"facts_computed": 1}
    fact = session.get(ReportFact, requests["ignored"].id)
    assert fact.first_response_s == 59 * H


def test_a_calendar_edit_recomputes_open_requests_and_keeps_decided_ones(session, requests):
    refresh_report_facts(session, load_calendar(session), NOW)
    # Veterans Day worked, Monday 9 November closed instead.
    edited = BusinessCalendar(
        removed_holidays={date(2026, 11, 11)}, added_holidays={date(2026, 11, 9)}
    )
    # The open ones: their history's durations and their stored clocks.
    assert refresh_report_facts(session, edited, NOW) == {"facts_computed": 3, "clocks_computed": 3}
    assert session.get(ReportFactsState, 1).calendar_key == calendar_key(edited)
    period = between(edited, NOW, date(2026, 11, 2), date(2026, 11, 13))
    board = build_dashboard(session, edited, period, NOW)
    # Open and untouched since 3 Nov: breached on 10 Nov now, 19 h late as before.
    assert {(r.request_id, r.breach_at, r.late_s) for r in board.breached} == {
        (requests["ignored"].id, at(10, 17), 19 * H)
    }
    # Rejected on 10 Nov: still measured with the calendar of its time.
    assert session.get(ReportFact, requests["late"].id).decision_s == 52 * H


def test_facts_of_a_request_match_the_calendar_arithmetic(session, requests):
    calendar = load_calendar(session)
    refresh_report_facts(session, calendar, NOW)
    fact = session.get(ReportFact, requests["late"].id)
    clock = session.get(ConsentRequest, requests["late"].id)  # the one stored clock
    assert (clock.clock_due_at, clock.clock_breach_at) == (at(4, 17), at(6, 17))
    assert fact.first_response_s == round(calendar.business_hours_between(at(2, 9), at(6, 9)) * H)
    assert fact.decided_day == date(2026, 11, 10)


@pytest.mark.parametrize(
    ("zone", "start", "end"),
    [
        ("America/Phoenix", datetime(2026, 11, 20, 16, 30), datetime(2026, 11, 30, 10, 15)),
        ("America/New_York", datetime(2026, 3, 6, 16, 0), datetime(2026, 3, 10, 9, 30)),
        ("America/New_York", datetime(2026, 10, 30, 8, 0), datetime(2026, 11, 3, 18, 0)),
        ("Europe/Berlin", datetime(2019, 12, 30, 12, 0), datetime(2020, 1, 8, 12, 0)),
        ("Europe/Berlin", datetime(2015, 12, 23, 12, 0), datetime(2016, 1, 5, 9, 0)),
    ],
)
def test_the_stored_business_positions_agree_with_the_calendar(zone, start, end):
    # The report facts store positions; they must measure business time wherever the two
    # instants fall, before the line's origin (6 January 2020) too.
    calendar = BusinessCalendar(timezone=zone)
    line = line_for(calendar)
    a, b = start.replace(tzinfo=ZoneInfo(zone)), end.replace(tzinfo=ZoneInfo(zone))
    expected = calendar.business_hours_between(a, b) * H
    assert (line.at(b) - line.at(a)) / 1e6 == pytest.approx(expected, abs=1e-6)
    assert line.deadline([(a, None)], 16) == calendar.add_business_hours(a, 16)


def test_a_business_position_does_not_depend_on_what_was_asked_before():
    # The line grows as instants are asked for; a position once stored must not move.
    zone = ZoneInfo("America/New_York")
    when = datetime(2026, 11, 27, 10, 30, tzinfo=zone)
    fresh = BusinessLine(BusinessCalendar(timezone="America/New_York"))
    grown = BusinessLine(BusinessCalendar(timezone="America/New_York"))
    grown.at(datetime(2031, 6, 2, tzinfo=zone))  # far ahead, then far back
    grown.at(datetime(2012, 3, 1, tzinfo=zone))
    assert fresh.at(when) == grown.at(when) > 0
    assert fresh.moment(fresh.at(when)) == grown.moment(grown.at(when)) == when


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (date(2026, 11, 10), date(2026, 11, 9), "start"),
        (date(2026, 11, 1), date(2026, 11, 14), "end"),
        (date(2023, 1, 1), date(2026, 11, 13), "start"),
    ],
)
def test_rejects_a_period_that_is_backwards_in_the_future_or_too_long(first, last, field):
    calendar = BusinessCalendar()
    with pytest.raises(ValidationError) as error:
        between(calendar, NOW, first, last)
    assert error.value.field == field


def test_last_days_ends_today_in_the_team_zone():
    calendar = BusinessCalendar()
    period = last_days(calendar, datetime(2026, 11, 14, 5, 0, tzinfo=ZoneInfo("UTC")), 7)
    assert (period.first_day, period.last_day) == (date(2026, 11, 7), date(2026, 11, 13))
    assert period.start == datetime(2026, 11, 7, 0, 0, tzinfo=PHX)
    assert [d.isoformat() for d in period.weeks()] == ["2026-11-02", "2026-11-09"]


def test_agents_without_work_are_listed_with_zeros(session, make_user, dashboard):
    make_user("idle@support.example", Role.agent)
    calendar = load_calendar(session)
    board = build_dashboard(session, calendar, dashboard.period, NOW)
    idle = [a for a in board.agents if a.email == "idle@support.example"]
    assert [(a.assigned, a.decided, a.breaches) for a in idle] == [(0, 0, 0)]
    assert session.scalar(sa.select(sa.func.count()).select_from(ReportFact)) == 7


def test_a_limited_refresh_leaves_a_big_backlog_to_the_scheduler(session, requests):
    calendar = load_calendar(session)
    assert refresh_report_facts(session, calendar, NOW, recent_only=True, limit=6) == {
        "facts_computed": 0,
        "deferred": 7,
    }
    assert session.scalar(sa.select(sa.func.count()).select_from(ReportFact)) == 0
    assert refresh_report_facts(session, calendar, NOW, limit=7) == {"facts_computed": 7}
