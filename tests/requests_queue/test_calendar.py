"""Specs for the support team's business calendar (SLA clock arithmetic)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pytest

from requests_queue.calendar import BusinessCalendar
from requests_queue.sla.engine import active_business_hours, deadline_from_running_intervals

PHX = "America/Phoenix"
NY = "America/New_York"
DEFAULT = BusinessCalendar.default()
NEW_YORK = BusinessCalendar(timezone=NY)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, tz: str = PHX) -> datetime:
    """An aware datetime at local wall-clock time in `tz`."""
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(tz))


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


# --- construction ---------------------------------------------------------------------------


def test_default_calendar_is_phoenix_weekdays_nine_to_five_with_us_holidays():
    assert DEFAULT.timezone == PHX
    assert DEFAULT.country == "US"
    assert [DEFAULT.hours[wd] for wd in range(7)] == [(time(9), time(17))] * 5 + [None, None]
    assert DEFAULT.hours_per_day == 8.0
    assert BusinessCalendar() == DEFAULT


def test_calendars_are_hashable_and_compare_by_value():
    hours = {wd: (time(9), time(17)) for wd in range(5)}
    a = BusinessCalendar(hours=hours, added_holidays={date(2026, 11, 27)})
    b = BusinessCalendar.default(added_holidays=frozenset({date(2026, 11, 27)}))
    assert a == b and hash(a) == hash(b)
    assert {a: "cached"}[b] == "cached"
    assert a != DEFAULT
    with pytest.raises(AttributeError):
        a.timezone = NY  # type: ignore[misc]


@pytest.mark.parametrize(
    "settings",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"country": "XX"},
        {"subdivision": "ZZ"},
        {"hours": {0: (time(17), time(9))}},
        {"hours": {7: (time(9), time(17))}},
    ],
    ids=[
        "unknown-zone",
        "unknown-country",
        "unknown-subdivision",
        "close-before-open",
        "weekday-7",
    ],
)
def test_invalid_settings_are_rejected(settings):
    with pytest.raises(ValueError):
        BusinessCalendar(**settings)


# --- holidays and windows -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 11, 26), "Thanksgiving Day"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 7, 3), "Independence Day (observed)"),
        (date(2027, 12, 31), "New Year's Day (observed)"),
        (date(2026, 11, 27), None),
        (date(2026, 11, 25), None),
    ],
)
def test_us_public_holidays_have_names(day, name):
    assert DEFAULT.holiday_name(day) == name
    assert DEFAULT.is_holiday(day) is (name is not None)


@pytest.mark.parametrize(
    ("tz", "day", "expected"),
    [
        (PHX, date(2026, 1, 5), (utc(2026, 1, 5, 16), utc(2026, 1, 6, 0))),
        (PHX, date(2026, 7, 6), (utc(2026, 7, 6, 16), utc(2026, 7, 7, 0))),
        (NY, date(2026, 3, 6), (utc(2026, 3, 6, 14), utc(2026, 3, 6, 22))),
        (NY, date(2026, 3, 9), (utc(2026, 3, 9, 13), utc(2026, 3, 9, 21))),
        (NY, date(2026, 10, 30), (utc(2026, 10, 30, 13), utc(2026, 10, 30, 21))),
        (NY, date(2026, 11, 2), (utc(2026, 11, 2, 14), utc(2026, 11, 2, 22))),
        (PHX, date(2026, 3, 7), None),
        (PHX, date(2026, 3, 8), None),
        (PHX, date(2026, 11, 26), None),
        (PHX, date(2026, 11, 27), (utc(2026, 11, 27, 16), utc(2026, 11, 28, 0))),
    ],
    ids=[
        "phoenix-winter",
        "phoenix-summer-has-no-dst",
        "new-york-before-spring-forward",
        "new-york-after-spring-forward",
        "new-york-before-fall-back",
        "new-york-after-fall-back",
        "saturday-closed",
        "sunday-closed",
        "thanksgiving-closed",
        "day-after-thanksgiving-open",
    ],
)
def test_window_is_local_wall_clock_hours_in_utc(tz, day, expected):
    assert BusinessCalendar(timezone=tz).window(day) == expected


def test_window_datetimes_are_aware_utc():
    opens, closes = DEFAULT.window(date(2026, 3, 2))
    assert opens.tzinfo is UTC and closes.tzinfo is UTC


def test_day_after_thanksgiving_is_a_business_day_unless_a_manager_adds_it():
    day = date(2026, 11, 27)
    closed = BusinessCalendar.default(added_holidays=frozenset({day}))
    assert DEFAULT.window(day) is not None
    assert closed.window(day) is None
    assert closed.holiday_name(day) == "Company holiday"
    filed = at(2026, 11, 25, 16)
    assert DEFAULT.add_business_hours(filed, 8) == at(2026, 11, 27, 16)
    assert closed.add_business_hours(filed, 8) == at(2026, 11, 30, 16)


def test_removed_public_holiday_is_worked_like_any_weekday():
    thanksgiving = date(2026, 11, 26)
    worked = BusinessCalendar(removed_holidays=frozenset({thanksgiving}))
    assert not worked.is_holiday(thanksgiving)
    assert worked.holiday_name(thanksgiving) is None
    assert worked.window(thanksgiving) == (utc(2026, 11, 26, 16), utc(2026, 11, 27, 0))
    assert worked.add_business_hours(at(2026, 11, 25, 16), 8) == at(2026, 11, 26, 16)


def test_added_holiday_wins_over_removed_one():
    day = date(2026, 11, 26)
    both = BusinessCalendar(added_holidays=frozenset({day}), removed_holidays=frozenset({day}))
    assert both.window(day) is None


def test_subdivision_holidays_are_closed():
    patriots_day = date(2026, 4, 20)
    assert NEW_YORK.window(patriots_day) is not None
    assert BusinessCalendar(timezone=NY, subdivision="MA").window(patriots_day) is None


# --- adding business time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filed", "hours", "due"),
    [
        (at(2026, 3, 2, 9), 8, at(2026, 3, 2, 17)),
        (at(2026, 3, 2, 11, 30), 8, at(2026, 3, 3, 11, 30)),
        (at(2026, 3, 2, 9), 0.25, at(2026, 3, 2, 9, 15)),
        (at(2026, 3, 7, 10), 8, at(2026, 3, 9, 17)),
        (at(2026, 3, 8, 23, 59), 1, at(2026, 3, 9, 10)),
        (at(2026, 3, 3, 18, 30), 2, at(2026, 3, 4, 11)),
        (at(2026, 3, 3, 3), 2, at(2026, 3, 3, 11)),
        (at(2026, 3, 3, 17), 1, at(2026, 3, 4, 10)),
        (at(2026, 3, 6, 15), 3, at(2026, 3, 9, 10)),
        (at(2026, 11, 25, 16), 8, at(2026, 11, 27, 16)),
        (at(2026, 11, 25, 10), 24, at(2026, 12, 1, 10)),
        (at(2026, 12, 18, 12), 40, at(2026, 12, 28, 12)),
    ],
    ids=[
        "filing-at-opening-8h-ends-at-close-same-day",
        "filing-mid-morning-carries-into-next-morning",
        "quarter-hour",
        "filing-on-saturday-starts-counting-monday-morning",
        "filing-sunday-night-starts-counting-monday-morning",
        "filing-after-hours-starts-next-morning",
        "filing-at-night-starts-that-morning",
        "filing-exactly-at-close-starts-next-morning",
        "friday-afternoon-rolls-over-the-weekend",
        "thanksgiving-is-skipped",
        "three-business-days-over-thanksgiving",
        "five-business-days-over-christmas",
    ],
)
def test_add_business_hours(filed, hours, due):
    result = DEFAULT.add_business_hours(filed, hours)
    assert result == due
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(2026, 3, 2, 9), at(2026, 3, 2, 9)),
        (at(2026, 3, 2, 13, 7), at(2026, 3, 2, 13, 7)),
        (at(2026, 3, 2, 8, 59), at(2026, 3, 2, 9)),
        (at(2026, 3, 2, 17), at(2026, 3, 3, 9)),
        (at(2026, 3, 7, 12), at(2026, 3, 9, 9)),
        (at(2026, 11, 26, 12), at(2026, 11, 27, 9)),
    ],
    ids=["at-opening", "inside-window", "before-opening", "at-close", "weekend", "holiday"],
)
def test_adding_zero_hours_returns_start_or_next_opening(start, expected):
    assert DEFAULT.add_business_hours(start, 0) == expected


@pytest.mark.parametrize(
    ("filed", "due_local", "due_utc"),
    [
        (at(2026, 3, 6, 16, tz=NY), at(2026, 3, 9, 16, tz=NY), utc(2026, 3, 9, 20)),
        (at(2026, 10, 30, 16, tz=NY), at(2026, 11, 2, 16, tz=NY), utc(2026, 11, 2, 21)),
    ],
    ids=["spring-forward-2026-03-08", "fall-back-2026-11-01"],
)
def test_eight_hours_across_a_dst_weekend_end_at_the_same_local_time(filed, due_local, due_utc):
    due = NEW_YORK.add_business_hours(filed, 8)
    assert due == due_local == due_utc
    assert due.astimezone(ZoneInfo(NY)).time() == time(16)


def test_start_in_any_zone_is_the_same_instant():
    in_utc = utc(2026, 3, 7, 0)  # Friday 17:00 in Phoenix
    assert DEFAULT.add_business_hours(in_utc, 1) == at(2026, 3, 9, 10)


def test_phoenix_has_no_dst_so_utc_times_never_shift():
    opens = {
        DEFAULT.window(d)[0].time() for d in (date(2026, 1, 5), date(2026, 3, 9), date(2026, 11, 2))
    }
    assert opens == {time(16)}


@pytest.mark.parametrize(
    ("filed", "days", "due"),
    [
        (at(2026, 3, 2, 9), 1, at(2026, 3, 2, 17)),
        (at(2026, 3, 7, 10), 3, at(2026, 3, 11, 17)),
        (at(2026, 3, 7, 10), 5, at(2026, 3, 13, 17)),
        (at(2026, 3, 4, 14), 3, at(2026, 3, 9, 14)),
        (at(2026, 11, 24, 12), 5, at(2026, 12, 2, 12)),
    ],
    ids=["one-day", "due-3", "breach-5", "partial-first-day", "breach-over-thanksgiving"],
)
def test_add_business_days_is_whole_standard_windows(filed, days, due):
    assert DEFAULT.add_business_days(filed, days) == due


def test_hours_per_day_is_the_most_common_window_length():
    long_days = {wd: (time(8), time(18)) for wd in range(4)} | {4: (time(8), time(12))}
    cal = BusinessCalendar(hours=long_days)
    assert cal.hours_per_day == 10.0
    assert BusinessCalendar(hours={}).hours_per_day == 0.0


def test_calendar_without_any_business_time_raises_instead_of_looping():
    with pytest.raises(ValueError, match="not enough business time"):
        BusinessCalendar(hours={}).add_business_hours(at(2026, 3, 2, 9), 1)


@pytest.mark.parametrize("hours", [-1, float("nan"), float("inf")])
def test_invalid_hour_amounts_raise(hours):
    with pytest.raises(ValueError):
        DEFAULT.add_business_hours(at(2026, 3, 2, 9), hours)


# --- measuring business time ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "start", "end", "hours"),
    [
        (DEFAULT, at(2026, 3, 2, 10), at(2026, 3, 2, 12, 30), 2.5),
        (DEFAULT, at(2026, 3, 2, 0), at(2026, 3, 7, 0), 40.0),
        (DEFAULT, at(2026, 3, 6, 16), at(2026, 3, 9, 10), 2.0),
        (DEFAULT, at(2026, 11, 23), at(2026, 11, 30), 32.0),
        (DEFAULT, utc(2026, 3, 2, 16), utc(2026, 3, 3, 0), 8.0),
        (DEFAULT, at(2026, 3, 3, 12), at(2026, 3, 2, 12), 0.0),
        (DEFAULT, at(2026, 3, 3, 12), at(2026, 3, 3, 12), 0.0),
        (NEW_YORK, at(2026, 3, 6, 9, tz=NY), at(2026, 3, 9, 17, tz=NY), 16.0),
        (NEW_YORK, at(2026, 10, 30, 9, tz=NY), at(2026, 11, 2, 17, tz=NY), 16.0),
    ],
    ids=[
        "inside-one-window",
        "whole-week",
        "across-weekend",
        "thanksgiving-week",
        "utc-inputs",
        "end-before-start",
        "empty-range",
        "across-spring-forward",
        "across-fall-back",
    ],
)
def test_business_hours_between(cal, start, end, hours):
    assert cal.business_hours_between(start, end) == pytest.approx(hours)


def test_business_days_between_divides_by_the_standard_day():
    assert DEFAULT.business_days_between(at(2026, 3, 2, 9), at(2026, 3, 4, 13)) == 2.5


def test_next_business_days_preview_skips_holidays_and_weekends_in_local_time():
    preview = DEFAULT.next_business_days(date(2026, 11, 25), 3)
    assert [d for d, _, _ in preview] == [
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 11, 30),
    ]
    for d, opens, closes in preview:
        assert opens == at(d.year, d.month, d.day, 9) and closes == at(d.year, d.month, d.day, 17)
        assert opens.utcoffset() == timedelta(hours=-7) and opens.time() == time(9)
    assert DEFAULT.next_business_days(date(2026, 11, 25), 0) == []


def test_calendar_edits_change_results():
    start, end = at(2026, 11, 23), at(2026, 12, 1)
    edited = BusinessCalendar(
        added_holidays=frozenset({date(2026, 11, 27)}),
        removed_holidays=frozenset({date(2026, 11, 26)}),
    )
    assert DEFAULT.business_hours_between(start, end) == 40.0
    assert edited.business_hours_between(start, end) == 40.0
    assert DEFAULT.window(date(2026, 11, 26)) is None and edited.window(date(2026, 11, 26))
    assert DEFAULT.add_business_days(at(2026, 11, 26, 9), 1) == at(2026, 11, 27, 17)
    assert edited.add_business_days(at(2026, 11, 26, 9), 1) == at(2026, 11, 26, 17)
    assert edited.add_business_days(at(2026, 11, 26, 9), 2) == at(2026, 11, 30, 17)


# --- paused clocks --------------------------------------------------------------------------


def test_pause_spanning_a_weekend_stops_the_clock_until_resumed():
    intervals = [(at(2026, 3, 6, 9), at(2026, 3, 6, 13)), (at(2026, 3, 10, 10), None)]
    assert active_business_hours(DEFAULT, intervals, now=at(2026, 3, 10, 12)) == 6.0
    # 4 h Friday, then 20 h from Tuesday 10:00: Tue 7 h, Wed 8 h, Thu 5 h.
    assert deadline_from_running_intervals(DEFAULT, intervals, 24) == at(2026, 3, 12, 14)


def test_pause_covering_only_the_weekend_changes_nothing():
    intervals = [(at(2026, 3, 6, 9), at(2026, 3, 7, 10)), (at(2026, 3, 9, 8), None)]
    expected = DEFAULT.add_business_hours(at(2026, 3, 6, 9), 24)
    assert (
        deadline_from_running_intervals(DEFAULT, intervals, 24) == expected == at(2026, 3, 10, 17)
    )


def test_paused_clock_has_no_deadline():
    intervals = [(at(2026, 3, 2, 9), at(2026, 3, 2, 12))]
    assert deadline_from_running_intervals(DEFAULT, intervals, 24) is None
    assert deadline_from_running_intervals(DEFAULT, [], 24) is None


def test_deadline_reached_before_a_pause_stays_in_the_past():
    intervals = [(at(2026, 3, 2, 9), at(2026, 3, 6, 17))]
    assert deadline_from_running_intervals(DEFAULT, intervals, 24) == at(2026, 3, 4, 17)


def test_open_interval_counts_up_to_now():
    intervals = [(at(2026, 3, 2, 9), None)]
    assert active_business_hours(DEFAULT, intervals, now=at(2026, 3, 2, 10, 30)) == 1.5
    assert active_business_hours(DEFAULT, intervals, now=at(2026, 3, 1, 10)) == 0.0
    closed_later = [(at(2026, 3, 2, 9), at(2026, 3, 3, 17))]
    assert active_business_hours(DEFAULT, closed_later, now=at(2026, 3, 2, 12)) == 3.0


def test_overlapping_running_intervals_are_counted_once():
    intervals = [(at(2026, 3, 2, 11), at(2026, 3, 2, 13)), (at(2026, 3, 2, 9), at(2026, 3, 2, 12))]
    assert active_business_hours(DEFAULT, intervals, now=at(2026, 3, 9)) == 4.0
    assert deadline_from_running_intervals(DEFAULT, intervals, 4) == at(2026, 3, 2, 13)


def test_pause_over_thanksgiving_with_a_company_day_added():
    intervals = [(at(2026, 11, 24, 9), at(2026, 11, 24, 17)), (at(2026, 11, 25, 15), None)]
    company = BusinessCalendar(added_holidays=frozenset({date(2026, 11, 27)}))
    # 8 h Tuesday, 2 h Wednesday afternoon, then 14 h more.
    assert deadline_from_running_intervals(DEFAULT, intervals, 24) == at(2026, 11, 30, 15)
    assert deadline_from_running_intervals(company, intervals, 24) == at(2026, 12, 1, 15)


# --- naive datetimes ------------------------------------------------------------------------

NAIVE = datetime(2026, 3, 2, 9)


@pytest.mark.parametrize(
    "call",
    [
        lambda: DEFAULT.add_business_hours(NAIVE, 1),
        lambda: DEFAULT.add_business_days(NAIVE, 1),
        lambda: DEFAULT.business_hours_between(NAIVE, at(2026, 3, 3)),
        lambda: DEFAULT.business_hours_between(at(2026, 3, 1), NAIVE),
        lambda: active_business_hours(DEFAULT, [(NAIVE, None)], now=at(2026, 3, 3)),
        lambda: active_business_hours(DEFAULT, [(at(2026, 3, 1), NAIVE)], now=at(2026, 3, 3)),
        lambda: active_business_hours(DEFAULT, [], now=NAIVE),
        lambda: deadline_from_running_intervals(DEFAULT, [(NAIVE, None)], 8),
    ],
    ids=[
        "add-hours",
        "add-days",
        "between-start",
        "between-end",
        "interval-start",
        "interval-end",
        "now",
        "deadline",
    ],
)
def test_naive_datetimes_raise(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


# --- independent check against numpy's business-day arithmetic ------------------------------

FIRST, LAST = date(2026, 1, 1), date(2027, 12, 31)
EVERY_DAY = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
NP_HOLIDAYS = sorted(holidays.country_holidays("US", years=range(2026, 2029)))


def np_date(value) -> date:
    return np.datetime64(value, "D").astype(date)


@pytest.mark.parametrize("tz", [PHX, NY])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_add_business_days_from_opening_agrees_with_numpy_busday_offset(tz, k):
    # From 09:00 of day d, k business days end at 17:00 of the (k-1)-th business day after the
    # first business day on or after d (numpy: roll="forward", then offset k-1).
    cal = BusinessCalendar(timezone=tz)
    mismatches = []
    for d in EVERY_DAY:
        end_day = np_date(np.busday_offset(d, k - 1, roll="forward", holidays=NP_HOLIDAYS))
        expected = at(end_day.year, end_day.month, end_day.day, 17, tz=tz)
        got = cal.add_business_days(at(d.year, d.month, d.day, 9, tz=tz), k)
        if got != expected:
            mismatches.append((d, got, expected))
    assert mismatches == []


@pytest.mark.parametrize("span", [1, 7, 31, 365])
def test_whole_day_business_hours_agree_with_numpy_busday_count(span):
    mismatches = []
    for d in EVERY_DAY:
        e = d + timedelta(days=span)
        expected = 8.0 * int(np.busday_count(d, e, holidays=NP_HOLIDAYS))
        got = DEFAULT.business_hours_between(at(d.year, d.month, d.day), at(e.year, e.month, e.day))
        if got != expected:
            mismatches.append((d, e, got, expected))
    assert mismatches == []
