"""Every time in the viewer's zone, named; deadlines also in team time (issue 14, item 5)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from requests_queue.calendar_store import load_calendar
from requests_queue.models import Role
from requests_queue.requests.window import request_window
from support.times import format_time
from tests.conftest import PASSWORD, play_timeline

BERLIN = ZoneInfo("Europe/Berlin")
TEAM = ZoneInfo("America/Phoenix")  # the calendar's default team zone (MST all year)
TEMPLATES = Path(__file__).parents[2] / "templates"
NOON = datetime(2026, 7, 1, 12, tzinfo=UTC)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _errors(response) -> list[str]:
    return re.findall(r'field-error" role="alert">([^<]*)<', response.get_data(as_text=True))


def _in_zone(session, user, zone: str | None):
    user.time_zone = zone
    session.commit()
    return user


def _long(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M %Z}"


def test_a_berlin_user_sees_cet_before_and_cest_after_the_spring_change(client, session, customer):
    # Berlin moves its clocks on Sunday 29 March 2026: noon UTC is 13:00 CET, then 14:00 CEST.
    before = play_timeline(
        session, customer, [(datetime(2026, 3, 28, 12, tzinfo=UTC), "file", customer)]
    )
    after = play_timeline(
        session, customer, [(datetime(2026, 3, 30, 12, tzinfo=UTC), "file", customer)]
    )
    _in_zone(session, customer, "Europe/Berlin")
    client.login(customer.email)
    page = _text(client.get("/requests"))
    assert "28 Mar 2026, 13:00 CET" in page
    assert "30 Mar 2026, 14:00 CEST" in page
    assert "UTC" not in page
    # And the autumn change back (25 October 2026): noon UTC is 14:00 CEST, then 13:00 CET.
    assert "filed 28 Mar 2026, 13:00 CET" in _text(client.get(f"/requests/{before.id}"))
    assert "filed 30 Mar 2026, 14:00 CEST" in _text(client.get(f"/requests/{after.id}"))
    autumn = play_timeline(
        session, customer, [(datetime(2026, 10, 26, 12, tzinfo=UTC), "file", customer)]
    )
    assert "filed 26 Oct 2026, 13:00 CET" in _text(client.get(f"/requests/{autumn.id}"))


def test_without_a_zone_of_their_own_people_see_team_time(client, session, customer, agent):
    play_timeline(session, customer, [(datetime(2026, 3, 30, 12, tzinfo=UTC), "file", customer)])
    client.login(agent.email)
    assert agent.time_zone is None
    assert "30 Mar 2026, 05:00 MST" in _text(client.get("/desk/"))


def test_a_deadline_shows_the_viewers_time_and_the_team_time(client, session, customer, agent):
    filed = datetime(2026, 12, 1, 16, tzinfo=UTC)  # Tuesday 09:00 MST, 17:00 CET
    req = play_timeline(session, customer, [(filed, "file", customer)])
    window = request_window(load_calendar(session), req, filed)
    due, latest = window.expected_by, window.latest  # Thu 3 and Mon 7 Dec, 17:00 MST
    assert (due.astimezone(TEAM).hour, latest.astimezone(TEAM).hour) == (17, 17)
    _in_zone(session, customer, "Europe/Berlin")
    client.login(customer.email)
    page = _text(client.get(f"/requests/{req.id}"))
    # 17:00 in Phoenix is 01:00 the next day in Berlin: the team's day is named too.
    assert f"{_long(due, BERLIN)} ({_team_day(due)} team time)" in page
    assert f"{_long(latest, BERLIN)} ({_team_day(latest)} team time)" in page
    assert "Friday 4 December 2026, 01:00 CET (Thu 3 Dec, 17:00 MST team time)" in page
    # The agent in Berlin reads the same deadlines on the review page, in both zones.
    _in_zone(session, agent, "Europe/Berlin")
    client.login(agent.email)
    review = _text(client.get(f"/desk/requests/{req.id}"))
    assert "due Fri 4 Dec, 01:00 CET (Thu 3 Dec, 17:00 MST team time)" in review
    assert "breaches Tue 8 Dec, 01:00 CET (Mon 7 Dec, 17:00 MST team time)" in review


def _team_day(instant: datetime) -> str:
    local = instant.astimezone(TEAM)
    return f"{local:%a} {local.day} {local:%b, %H:%M %Z}"


def test_a_deadline_at_a_late_team_hour_names_the_teams_day(client, session, customer):
    filed = datetime(2026, 12, 1, 16, tzinfo=UTC)
    req = play_timeline(session, customer, [(filed, "file", customer)])
    _in_zone(session, customer, "Asia/Tokyo")  # 16 hours ahead of the team: another day
    client.login(customer.email)
    page = _text(client.get(f"/requests/{req.id}"))
    assert re.search(
        r"\d\d:\d\d JST \((Mon|Tue|Wed|Thu|Fri) \d+ Dec, \d\d:\d\d MST team time\)", page
    )


def test_in_the_team_zone_a_deadline_is_written_once(client, session, customer):
    req = play_timeline(
        session, customer, [(datetime(2026, 12, 1, 16, tzinfo=UTC), "file", customer)]
    )
    _in_zone(session, customer, "America/Phoenix")
    client.login(customer.email)
    page = _text(client.get(f"/requests/{req.id}"))
    assert "MST" in page
    assert "team time" not in page


def test_an_unknown_zone_is_refused_next_to_the_field(client, session, customer):
    _in_zone(session, customer, "Europe/Berlin")
    client.login(customer.email)
    response = client.post("/account/time-zone", {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 400
    assert _errors(response) == [
        "Mars/Olympus_Mons is not an IANA time zone name (for example Europe/Berlin)"
    ]
    assert 'id="time_zone-help"' in response.get_data(as_text=True)
    session.refresh(customer)
    assert customer.time_zone == "Europe/Berlin"
    assert _errors(client.post("/account/time-zone", {"time_zone": ""})) == [
        "That is not an IANA time zone name (for example Europe/Berlin)"
    ]


def test_picking_a_zone_on_the_account_page_changes_every_time_shown(client, session, customer):
    play_timeline(session, customer, [(datetime(2026, 7, 1, 12, tzinfo=UTC), "file", customer)])
    client.login(customer.email)
    page = client.get("/account").get_data(as_text=True)
    assert '<label for="time_zone">Your time zone</label>' in page
    response = client.post("/account/time-zone", {"time_zone": "Asia/Kolkata"})
    assert response.status_code == 302
    session.refresh(customer)
    assert customer.time_zone == "Asia/Kolkata"
    assert "1 Jul 2026, 17:30 IST" in _text(client.get("/requests"))
    assert '<option selected value="Asia/Kolkata">' in client.get("/account").get_data(as_text=True)


def test_the_zone_is_checked_before_anything_changes_without_csrf(client, session, customer):
    client.login(customer.email)
    response = client.post("/account/time-zone", {"time_zone": "Asia/Tokyo"}, csrf=False)
    assert response.status_code == 400
    session.refresh(customer)
    assert customer.time_zone is None


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        (" America/New_York ", "America/New_York"),
        ("Not/AZone", None),  # the server checks the browser's word against zoneinfo
        ("", None),
    ],
)
def test_the_first_login_keeps_the_browsers_zone(client, session, customer, sent, kept):
    client.post(
        "/login", {"email": customer.email, "password": PASSWORD, "browser_time_zone": sent}
    )
    session.refresh(customer)
    assert customer.time_zone == kept


def test_later_logins_keep_the_zone_the_person_has(client, session, customer):
    _in_zone(session, customer, "Europe/Berlin")
    client.post(
        "/login", {"email": customer.email, "password": PASSWORD, "browser_time_zone": "Asia/Tokyo"}
    )
    session.refresh(customer)
    assert customer.time_zone == "Europe/Berlin"


def test_the_dashboard_names_the_zone_of_as_of(client, session, make_user):
    manager = _in_zone(session, make_user("boss@desk.example", Role.manager), "Europe/Berlin")
    client.login(manager.email)
    page = _text(client.get("/manager/dashboard"))
    assert re.search(r"as of \w{3} \d+ \w{3}, \d\d:\d\d CES?T", page)
    assert "times in your time zone (Europe/Berlin); team time is America/Phoenix" in page


@pytest.mark.parametrize(
    ("value", "style", "zone", "shown"),
    [
        (NOON, "short", "Europe/Berlin", "1 Jul 2026, 14:00 CEST"),
        (NOON, "long", "Asia/Kolkata", "Wednesday 1 July 2026, 17:30 IST"),
        (NOON, "day", "America/Sao_Paulo", "Wed 1 Jul, 09:00 UTC-03"),  # no letters: the offset
        (NOON, "time", "Asia/Kathmandu", "17:45 UTC+05:45"),
        (NOON, "date", "Pacific/Kiritimati", "2 Jul 2026"),  # already tomorrow there
        (datetime(2026, 7, 1, 12), "short", "UTC", "1 Jul 2026, 12:00 UTC"),  # naive means UTC
        (date(2026, 12, 3), "day", "Asia/Tokyo", "Thu 3 Dec 2026"),  # a day has no zone
        (time(9, 30), "short", "Asia/Tokyo", "09:30"),  # weekly hours: the heading names the zone
        (None, "short", "UTC", "—"),
    ],
)
def test_one_filter_spells_every_time(value, style, zone, shown):
    assert format_time(value, style, ZoneInfo(zone)) == shown


def test_templates_show_times_only_through_the_dt_filter():
    """One way to show a time: no template formats one itself (support/times.py does)."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ".strftime(" in line
    ]
    assert offenders == []
