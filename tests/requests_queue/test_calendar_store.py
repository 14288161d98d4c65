"""Specs for the stored team calendar: defaults, validation, holiday edits and the preview."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from requests_queue.calendar import BusinessCalendar
from requests_queue.calendar_store import (
    CalendarInput,
    add_holiday,
    delete_holiday_change,
    holiday_changes,
    load_calendar,
    preview_days,
    remove_holiday,
    update_calendar,
)
from requests_queue.errors import NotFound, ValidationError
from requests_queue.models import HolidayChange
from requests_queue.statuses import Actor, ActorKind

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
WEEKDAYS_9_TO_5 = {wd: (time(9), time(17)) for wd in range(5)}
THANKSGIVING = date(2026, 11, 26)
ORDINARY_FRIDAY = date(2026, 11, 27)


@pytest.fixture
def boss(manager) -> Actor:
    """The manager as the domain's actor."""
    return Actor(ActorKind.manager, manager.id)


def settings(**changes) -> CalendarInput:
    """Valid settings (Phoenix, US, Mon-Fri 9-5) with some fields changed."""
    values = {
        "timezone": "America/Phoenix",
        "country": "US",
        "subdivision": None,
        "hours": WEEKDAYS_9_TO_5,
    } | changes
    return CalendarInput(**values)


def test_nothing_stored_means_the_default_calendar(session):
    assert load_calendar(session) == BusinessCalendar.default()


def test_saved_settings_are_what_load_returns(session, boss):
    hours = {0: (time(8), time(16)), 2: (time(10), time(18, 30)), 5: (time(9), time(12))}
    saved = update_calendar(
        session, settings(timezone="America/New_York", subdivision="NY", hours=hours), boss, NOW
    )
    session.commit()
    loaded = load_calendar(session)
    assert loaded == saved
    assert loaded.timezone == "America/New_York"
    assert loaded.subdivision == "NY"
    assert dict(loaded.hours) == {wd: hours.get(wd) for wd in range(7)}


def test_saving_again_replaces_the_hours_of_every_day(session, boss):
    update_calendar(
        session, settings(hours={wd: (time(7), time(19)) for wd in range(7)}), boss, NOW
    )
    update_calendar(session, settings(hours={1: (time(9), time(17))}), boss, NOW)
    session.commit()
    assert [wd for wd in range(7) if load_calendar(session).hours[wd]] == [1]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"timezone": ""}, "timezone", "choose the team's time zone"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "not an IANA time zone"),
        ({"timezone": "../../etc/passwd"}, "timezone", "not an IANA time zone"),
        ({"timezone": "MST7"}, "timezone", "not an IANA time zone"),
        ({"country": "XX"}, "country", "no public holidays are known"),
        ({"country": ""}, "country", "no public holidays are known"),
        ({"subdivision": "ZZ"}, "subdivision", "not a subdivision of US"),
        ({"country": "IS", "subdivision": "CA"}, "subdivision", "IS has no subdivisions"),
        ({"hours": {0: (time(17), time(9))}}, "hours-0", "Monday: opening time must be before"),
        ({"hours": {2: (time(9), time(9))}}, "hours-2", "Wednesday: opening time must be before"),
        ({"hours": {}}, "hours", "open at least one day a week"),
        ({"hours": {wd: None for wd in range(7)}}, "hours", "open at least one day a week"),
    ],
    ids=[
        "empty-zone",
        "unknown-zone",
        "path-as-zone",
        "posix-zone",
        "unknown-country",
        "empty-country",
        "unknown-subdivision",
        "country-without-subdivisions",
        "closes-before-opening",
        "zero-length-day",
        "no-day-open",
        "every-day-closed",
    ],
)
def test_rejects_invalid_settings_naming_the_field(session, boss, changes, field, message):
    with pytest.raises(ValidationError) as error:
        update_calendar(session, settings(**changes), boss, NOW)
    assert error.value.field == field
    assert message in error.value.reason
    assert load_calendar(session) == BusinessCalendar.default()


@pytest.mark.parametrize(
    ("country", "subdivision", "stored"),
    [("us", "az", ("US", "AZ")), ("US", "Arizona", ("US", "AZ")), ("de", "by", ("DE", "BY"))],
)
def test_accepts_codes_in_any_case_and_subdivision_names(
    session, boss, country, subdivision, stored
):
    update_calendar(session, settings(country=country, subdivision=subdivision), boss, NOW)
    calendar = load_calendar(session)
    assert (calendar.country, calendar.subdivision) == stored


def test_company_holiday_closes_the_day_and_shows_its_note(session, boss):
    add_holiday(session, ORDINARY_FRIDAY, "  Team   offsite ", boss, NOW)
    session.commit()
    calendar = load_calendar(session)
    assert calendar.window(ORDINARY_FRIDAY) is None
    [change] = holiday_changes(session)
    assert (change.day, change.change, change.note) == (
        ORDINARY_FRIDAY,
        HolidayChange.added,
        "Team offsite",
    )


def test_working_a_public_holiday_opens_it(session, boss):
    remove_holiday(session, THANKSGIVING, "", boss, NOW)
    session.commit()
    assert load_calendar(session).window(THANKSGIVING) is not None
    assert holiday_changes(session)[0].note == "Thanksgiving Day worked"


@pytest.mark.parametrize(
    ("steps", "closed"),
    [
        ([("add", ORDINARY_FRIDAY), ("remove", ORDINARY_FRIDAY)], False),
        ([("remove", THANKSGIVING), ("add", THANKSGIVING)], True),
    ],
    ids=["company-holiday-taken-back", "public-holiday-given-back"],
)
def test_opposite_edit_undoes_the_first_and_leaves_no_row(session, boss, steps, closed):
    for verb, day in steps:
        (add_holiday if verb == "add" else remove_holiday)(session, day, "", boss, NOW)
    session.commit()
    day = steps[0][1]
    assert (load_calendar(session).window(day) is None) is closed
    assert holiday_changes(session) == []


@pytest.mark.parametrize(
    ("setup", "verb", "day", "message"),
    [
        ([], "add", THANKSGIVING, "already a public holiday (Thanksgiving Day)"),
        ([("add", ORDINARY_FRIDAY)], "add", ORDINARY_FRIDAY, "already a company holiday"),
        ([], "remove", ORDINARY_FRIDAY, "is not a holiday"),
        ([("remove", THANKSGIVING)], "remove", THANKSGIVING, "already a working day"),
    ],
    ids=["add-public-holiday", "add-twice", "remove-ordinary-day", "remove-twice"],
)
def test_rejects_holiday_edits_that_change_nothing(session, boss, setup, verb, day, message):
    for setup_verb, setup_day in setup:
        (add_holiday if setup_verb == "add" else remove_holiday)(session, setup_day, "", boss, NOW)
    with pytest.raises(ValidationError) as error:
        (add_holiday if verb == "add" else remove_holiday)(session, day, "", boss, NOW)
    assert error.value.field == "day"
    assert message in error.value.reason


def test_rejects_a_note_over_200_characters(session, boss):
    with pytest.raises(ValidationError) as error:
        add_holiday(session, ORDINARY_FRIDAY, "x" * 201, boss, NOW)
    assert error.value.field == "note"


def test_undoing_an_edit_restores_the_public_calendar(session, boss):
    remove_holiday(session, THANKSGIVING, "", boss, NOW)
    change_id = holiday_changes(session)[0].id
    delete_holiday_change(session, change_id)
    session.commit()
    assert load_calendar(session).window(THANKSGIVING) is None
    with pytest.raises(NotFound):
        delete_holiday_change(session, change_id)


def test_saving_settings_keeps_the_holiday_edits(session, boss):
    add_holiday(session, ORDINARY_FRIDAY, "Offsite", boss, NOW)
    update_calendar(session, settings(timezone="America/New_York"), boss, NOW)
    session.commit()
    assert ORDINARY_FRIDAY in load_calendar(session).added_holidays


def test_edits_move_a_deadline_computed_from_the_same_filing(session, boss):
    filed = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # Tuesday 09:00 in Phoenix
    zone = load_calendar(session).zone
    before = load_calendar(session).add_business_days(filed, 3).astimezone(zone)
    add_holiday(session, ORDINARY_FRIDAY, "Offsite", boss, NOW)
    after = load_calendar(session).add_business_days(filed, 3).astimezone(zone)
    # Thanksgiving is skipped either way; the company holiday pushes the end past the weekend.
    assert f"{before:%a %d %H:%M}" == "Fri 27 17:00"
    assert f"{after:%a %d %H:%M}" == "Mon 30 17:00"


def test_preview_lists_business_days_and_names_the_holidays_between(session, boss):
    add_holiday(session, date(2026, 12, 24), "Christmas Eve", boss, NOW)
    remove_holiday(session, date(2026, 12, 25), "On call for the holidays", boss, NOW)
    rows = preview_days(
        load_calendar(session),
        date(2026, 12, 14),
        15,
        {c.day: c.note for c in holiday_changes(session)},
    )
    open_days = [r for r in rows if r.is_open]
    closed = {r.day: r.holiday for r in rows if not r.is_open}
    assert len(open_days) == 15
    assert closed == {date(2026, 12, 24): "Christmas Eve", date(2027, 1, 1): "New Year's Day"}
    assert open_days[-1].day == date(2027, 1, 5)
    assert all(r.day.weekday() < 5 for r in rows)  # weekends are simply absent
    christmas = next(r for r in rows if r.day == date(2026, 12, 25))
    assert (christmas.note, christmas.hours) == ("On call for the holidays", 8.0)
    assert (open_days[0].opens.strftime("%H:%M %Z"), open_days[0].hours) == ("09:00 MST", 8.0)
