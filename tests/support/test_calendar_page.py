"""The manager's calendar page over HTTP: who may see it, editing, preview and holidays."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from requests_queue.calendar import BusinessCalendar
from requests_queue.calendar_store import holiday_changes, load_calendar, preview_days
from requests_queue.now import now_utc

URL = "/manager/calendar"


def form(**changes) -> dict:
    """A complete calendar form: Phoenix, US, Mon-Fri 09:00-17:00, with changes."""
    data = {"timezone": "America/Phoenix", "country": "US", "subdivision": "", "submit": "Save"}
    for wd in range(5):
        data |= {f"hours-{wd}-is_open": "y", f"hours-{wd}-opens": "09:00"}
        data[f"hours-{wd}-closes"] = "17:00"
    return data | changes


def next_open_days(n: int = 3):
    """The next business days of the default calendar, as the page counts them."""
    calendar = BusinessCalendar.default()
    today = now_utc().astimezone(calendar.zone).date()
    return [row.day for row in preview_days(calendar, today, n) if row.is_open]


@pytest.fixture
def as_manager(client, manager):
    client.login(manager.email)
    return client


@pytest.mark.parametrize("who", ["agent", "customer"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_managers_may_open_or_change_the_calendar(client, request, who, method):
    user = request.getfixturevalue(who)
    client.login(user.email)
    response = client.get(URL) if method == "get" else client.post(URL, form())
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    assert client.get(URL).status_code == 302


def test_page_shows_the_settings_and_fifteen_business_days(as_manager):
    page = as_manager.get(URL).get_data(as_text=True)
    assert 'value="America/Phoenix"' in page
    assert "Next 15 business days" in page
    assert page.count("09:00–17:00 MST") == 15
    assert '<a href="/manager/calendar">Calendar</a>' in page


def test_saving_stores_the_settings_and_says_so(as_manager, session):
    data = form(timezone="America/New_York", **{"hours-4-closes": "13:00"})
    response = as_manager.post(URL, data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Calendar saved." in page
    calendar = load_calendar(session)
    assert (calendar.timezone, calendar.hours[4]) == ("America/New_York", (time(9), time(13)))
    assert "America/New_York" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "Mars/Olympus_Mons is not an IANA time zone name"),
        ({"timezone": ""}, "Choose the team&#39;s time zone."),
        ({"subdivision": "ZZ"}, "ZZ is not a subdivision of US"),
        ({"hours-0-closes": "08:00"}, "Monday: opening time must be before closing time"),
        ({"hours-2-opens": ""}, "Give Wednesday&#39;s hours."),
        ({f"hours-{wd}-is_open": "" for wd in range(5)}, "Open at least one day a week"),
    ],
    ids=["unknown-zone", "no-zone", "unknown-region", "closes-first", "missing-time", "all-closed"],
)
def test_invalid_settings_show_a_message_and_save_nothing(as_manager, session, changes, message):
    response = as_manager.post(URL, form(**changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert load_calendar(session) == BusinessCalendar.default()


def test_preview_shows_unsaved_hours_without_saving_them(as_manager, session):
    data = form(preview="Preview", **{f"hours-{wd}-opens": "08:00" for wd in range(5)})
    del data["submit"]
    page = as_manager.post(URL, data).get_data(as_text=True)
    assert "Preview of your <strong>unsaved</strong> changes" in page
    assert page.count("08:00–17:00 MST") == 15
    assert load_calendar(session) == BusinessCalendar.default()


def test_closing_a_day_names_it_in_the_preview_and_undo_restores_it(as_manager, session):
    day = next_open_days()[1]
    response = as_manager.post(
        f"{URL}/holidays",
        {
            "holiday-day": day.isoformat(),
            "holiday-note": "Team <offsite>",
            "holiday-close_day": "1",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert f"{day:%A %d %B %Y} is now closed." in page
    assert "<strong>Closed</strong>: Team &lt;offsite&gt;" in page
    assert page.count("09:00–17:00 MST") == 15  # still fifteen business days, one further out
    [change] = holiday_changes(session)
    undone = as_manager.post(f"{URL}/holidays/{change.id}/undo", follow_redirects=True)
    assert f"{day:%A %d %B %Y} follows the public calendar again." in undone.get_data(as_text=True)
    assert day not in load_calendar(session).added_holidays
    again = as_manager.post(f"{URL}/holidays/{change.id}/undo", follow_redirects=True)
    assert "That holiday edit was already undone." in again.get_data(as_text=True)


def test_working_a_public_holiday_from_the_list(as_manager, session):
    calendar = BusinessCalendar.default()
    today = now_utc().astimezone(calendar.zone).date()
    days = (today + timedelta(days=n) for n in range(366))
    holiday = next(d for d in days if calendar.public_holiday_name(d))
    page = as_manager.get(URL).get_data(as_text=True)
    assert f'name="holiday-day" value="{holiday.isoformat()}"' in page
    as_manager.post(
        f"{URL}/holidays", {"holiday-day": holiday.isoformat(), "holiday-open_day": "1"}
    )
    assert holiday in load_calendar(session).removed_holidays


def test_a_holiday_edit_that_changes_nothing_is_explained(as_manager, session):
    day = next_open_days()[0]
    response = as_manager.post(
        f"{URL}/holidays", {"holiday-day": day.isoformat(), "holiday-open_day": "1"}
    )
    assert response.status_code == 200
    assert "is not a holiday" in response.get_data(as_text=True)


def test_posting_without_the_csrf_token_is_refused(as_manager, session):
    assert as_manager.post(URL, form(timezone="UTC"), csrf=False).status_code == 400
    assert load_calendar(session) == BusinessCalendar.default()
