"""Fair assignment over HTTP: the availability toggle in the header and on My shift, the
manager's assignment settings and agents' working hours (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from requests_queue.models import Role
from requests_queue.shifts import is_away, load_settings, own_hours
from tests.conftest import play_timeline

AGENTS = "/manager/calendar/agents"
MON = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # Monday 10:00 in the team's Phoenix


def hours_form(**changes) -> dict:
    """An agent's own hours: Monday–Wednesday 12:00–16:00."""
    data = {"own_hours": "y", "save_hours": "Save"}
    for wd in range(3):
        data |= {f"hours-{wd}-is_open": "y", f"hours-{wd}-opens": "12:00"}
        data[f"hours-{wd}-closes"] = "16:00"
    return data | changes


def test_an_agent_goes_away_from_the_header_and_comes_back(client, session, agent):
    client.login(agent.email)
    page = client.get("/desk/").get_data(as_text=True)
    assert 'aria-pressed="true"' in page and ">Available</button>" in page
    answer = client.post("/desk/availability", data={"available": "0", "next": "/desk/?kind=x"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/desk/?kind=x")
    assert is_away(session, agent.id)
    page = client.get("/desk/shift").get_data(as_text=True)
    assert "You are away" in page and ">Away</button>" in page and "I am available" in page
    client.post("/desk/availability", data={"available": "1", "next": "/desk/shift"})
    session.expire_all()
    assert not is_away(session, agent.id)


def test_the_toggle_never_sends_anyone_off_site(client, session, agent):
    client.login(agent.email)
    answer = client.post("/desk/availability", data={"available": "0", "next": "//evil.example"})
    assert answer.headers["Location"].endswith("/desk/shift")


def test_the_toggle_needs_the_csrf_token(client, session, agent):
    client.login(agent.email)
    answer = client.post("/desk/availability", data={"available": "0"}, csrf=False)
    assert answer.status_code in (302, 400)
    assert not is_away(session, agent.id)


def test_customers_have_no_toggle_and_cannot_use_it(client, customer):
    client.login(customer.email)
    assert "/desk/availability" not in client.get("/").get_data(as_text=True)
    assert client.post("/desk/availability", data={"available": "0"}).status_code == 403


@pytest.mark.parametrize("who", ["agent", "customer"])
def test_only_managers_see_the_agents_page(client, request, who):
    user = request.getfixturevalue(who)
    client.login(user.email)
    assert client.get(AGENTS).status_code == 403
    assert (
        client.post(AGENTS, data={"is_enabled": "y", "max_open_per_agent": "3"}).status_code == 403
    )


def test_a_manager_turns_assignment_on_and_an_away_agent_gets_nothing(
    client, session, manager, make_user, customer
):
    first = make_user("first@support.example", Role.agent)
    second = make_user("second@support.example", Role.agent)
    client.login(manager.email)
    page = client.get(AGENTS).get_data(as_text=True)
    assert "automatic assignment is off" in page
    answer = client.post(AGENTS, data={"is_enabled": "y", "max_open_per_agent": "3"})
    assert answer.status_code == 302
    assert load_settings(session).is_enabled and load_settings(session).max_open_per_agent == 3
    client.logout()
    client.login(first.email)
    client.post("/desk/availability", data={"available": "0"})
    req = play_timeline(session, customer, [(MON, "file", customer)])
    assert req.assignee_id == second.id
    client.logout()
    client.login(manager.email)
    page = client.get(AGENTS).get_data(as_text=True)
    assert "first@support.example" in page and "Away" in page


@pytest.mark.parametrize(
    ("value", "message"), [("0", "between 1 and 1000"), ("", "Give a whole number"), ("x", "")]
)
def test_a_bad_cap_is_refused_next_to_the_field(client, session, manager, value, message):
    client.login(manager.email)
    answer = client.post(AGENTS, data={"is_enabled": "y", "max_open_per_agent": value})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="max_open_per_agent-help"' in page and 'class="field-error"' in page
    assert message in page
    assert load_settings(session).is_enabled is False


def test_a_manager_gives_an_agent_own_hours_and_back_to_the_team(client, session, manager, agent):
    client.login(manager.email)
    url = f"{AGENTS}/{agent.id}"
    assert client.get(url).status_code == 200
    assert client.post(url, data=hours_form()).status_code == 302
    hours = own_hours(session, agent.id)
    assert hours[0] == (time(12), time(16)) and hours[3] is None
    page = client.get(AGENTS).get_data(as_text=True)
    assert "Own hours" in page and "Mon 12:00–16:00" in page
    client.post(url, data={"save_hours": "Save"})  # the box unticked: the team's hours
    session.expire_all()
    assert own_hours(session, agent.id) is None


def test_hours_that_end_before_they_start_are_refused_next_to_the_day(
    client, session, manager, agent
):
    client.login(manager.email)
    answer = client.post(f"{AGENTS}/{agent.id}", data=hours_form(**{"hours-1-closes": "11:00"}))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Tuesday: start must be before the end" in page
    assert own_hours(session, agent.id) is None


def test_a_customer_or_unknown_person_has_no_hours_page(client, manager, customer):
    client.login(manager.email)
    assert client.get(f"{AGENTS}/{customer.id}").status_code == 404
    assert client.get(f"{AGENTS}/99999").status_code == 404


def test_names_are_escaped(client, session, manager, make_user):
    person = make_user("odd@support.example", Role.agent)
    person.name = "<b>Bold</b>"
    session.commit()
    client.login(manager.email)
    page = client.get(AGENTS).get_data(as_text=True)
    assert "<b>Bold</b>" not in page and "&lt;b&gt;Bold&lt;/b&gt;" in page


def test_the_review_page_shows_work_given_back_to_the_pool(
    client, session, manager, make_user, customer
):
    from datetime import timedelta

    from requests_queue.requests.auto_assign import balance_assignments
    from requests_queue.shifts import set_availability, update_settings
    from tests.conftest import actor_of

    holder = make_user("holder@support.example", Role.agent)
    update_settings(session, True, 5, actor_of(manager), MON)
    req = play_timeline(session, customer, [(MON, "file", customer)])
    assert req.assignee_id == holder.id
    set_availability(session, holder, False, MON)
    due = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # Thursday 10:00 team time
    assert balance_assignments(session, due - timedelta(minutes=30))["released"] == 1
    session.commit()
    client.login(manager.email)
    page = client.get(f"/desk/requests/{req.id}").get_data(as_text=True)
    assert "back to the pool" in page and "holder@support.example is away" in page
    assert "Assigned automatically (round robin)" in page
