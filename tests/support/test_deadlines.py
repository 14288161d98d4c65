"""The 3–5 business-day promise as people see it: the customer's dates at filing and on the
request (paused, then moved by the pause), and the agent queue's next-deadline column."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from requests_queue.calendar_store import add_holiday
from requests_queue.models import ConsentRequest, OutboxMessage
from tests.conftest import actor_of, play_timeline

PHX = ZoneInfo("America/Phoenix")
GOOD = {
    "reason": "These people signed up on our site but the import lost the flag.",
    "never_sent": "y",
    "explicit_permission": "yes",
    "permission_details": "Each ticked an unticked newsletter box on our site form in 2025.",
    "form_links": "https://acme.example/newsletter",
    "list_source": "website_form",
    "attested": "y",
}


def at(m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=PHX)


def _text(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", page)


@pytest.fixture
def clock(monkeypatch):
    """Freeze the pages' clock: clock(when)."""
    from support.agent import views as agent_views
    from support.customer import request_views

    def set_now(when: datetime) -> None:
        for module in (agent_views, request_views):
            monkeypatch.setattr(module, "now_utc", lambda: when)

    return set_now


def test_the_customer_is_told_the_dates_of_the_team_calendar_with_its_holiday(
    client, session, customer, manager, make_contact, clock
):
    add_holiday(session, date(2026, 11, 24), "Team offsite", actor_of(manager), at(11, 1))
    session.commit()
    make_contact(customer, email="new@acme.example")
    clock(at(11, 23, 10))  # Monday 10:00; Tuesday is the offsite, Thursday Thanksgiving
    client.login(customer.email)
    filed = client.post("/requests/new/opt-in?fields=email", GOOD)
    expected = "expected by Monday 30 November 2026, 10:00 MST (3 business days)"
    latest = "at the latest Wednesday 2 December 2026, 10:00 MST (5 business days)"
    confirmation = _text(client.get(filed.headers["Location"]))
    assert "within 3–5 business days" in confirmation
    assert expected in confirmation and latest in confirmation
    mail = session.scalars(sa.select(OutboxMessage)).one()
    # The email goes to the filer and reads as their pages do (they chose no zone: team time).
    assert expected in mail.body_text and latest in mail.body_text
    req = session.scalars(sa.select(ConsentRequest)).one()
    clock(at(11, 25, 16))  # two days later, nothing happened yet
    page = _text(client.get(f"/requests/{req.id}"))
    assert f"Decision {expected}, {latest}" in page


def test_a_paused_request_says_so_and_the_answer_moves_its_dates(
    client, session, customer, agent, clock
):
    req = play_timeline(
        session,
        customer,
        [
            (at(11, 2, 9), "file", customer),  # due Wed 4 Nov 17:00 if nothing pauses it
            (at(11, 2, 10), "claim", agent),
            (at(11, 3, 13), "ask", agent),  # after 12 business hours
        ],
    )
    client.login(customer.email)
    clock(at(11, 5, 12))  # Thursday noon, still waiting
    paused = _text(client.get(f"/requests/{req.id}"))
    assert "Paused: support is waiting for your answer." in paused
    assert "stands still until you answer and resumes when you do" in paused
    assert (
        "If you answer now, a decision is expected by Friday 6 November 2026, 16:00 MST "
        "(3 business days), at the latest Tuesday 10 November 2026, 16:00 MST" in paused
    )
    assert "So far the clock stood still for 1 business day and 7 hours" in paused
    clock(at(11, 9, 10))  # the answer comes Monday 10:00
    answered = client.post(f"/requests/{req.id}/answer", {"answer": "The footer form."})
    assert answered.status_code == 302
    page = _text(client.get(f"/requests/{req.id}"))
    assert "Paused" not in page
    assert (
        "Decision expected by Tuesday 10 November 2026, 14:00 MST (3 business days), "
        "at the latest Friday 13 November 2026, 14:00 MST (5 business days)" in page
    )  # Wednesday 11 is Veterans Day
    assert "The clock stood still for 3 business days and 5 hours" in page


def test_a_late_request_tells_the_customer_when_it_was_due(client, session, customer, clock):
    req = play_timeline(session, customer, [(at(11, 2, 9), "file", customer)])
    client.login(customer.email)
    clock(at(11, 5, 12))
    late = _text(client.get(f"/requests/{req.id}"))
    assert "A decision was expected by Wednesday 4 November 2026, 17:00 MST" in late
    assert "support decides at the latest Friday 6 November 2026, 17:00 MST" in late
    clock(at(11, 9, 12))
    overdue = _text(client.get(f"/requests/{req.id}"))
    assert "taking longer than promised" in overdue and "Support has been alerted" in overdue


def _deadline_cells(page: str) -> list[tuple[str, str, str]]:
    """(request number, cell class, cell text) of each queue row, in order."""
    rows = re.findall(
        r'<td><a href="/desk/requests/\d+">(R-\d+)</a></td>\s*<td class="deadline ([\w ]*)"[^>]*>'
        r"(.*?)</td>",
        page,
        re.S,
    )
    return [(n, cls.strip(), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", t)).strip())
            for n, cls, t in rows]  # fmt: skip


def test_the_queue_sorts_by_next_deadline_and_says_at_risk_and_breached(
    client, session, customer, agent, clock
):
    def opened(filed: datetime) -> ConsentRequest:
        return play_timeline(session, customer, [(filed, "file", customer)])

    fresh = opened(at(11, 6, 10))  # Friday
    due_soon = opened(at(11, 5, 9))
    breached = opened(at(10, 26, 9))
    paused = play_timeline(
        session,
        customer,
        [(at(11, 3, 9), "file", customer), (at(11, 3, 10), "claim", agent),
         (at(11, 3, 12), "ask", agent)],
    )  # fmt: skip
    at_risk = opened(at(11, 2, 9))
    clock(at(11, 6, 12))  # Friday noon
    client.login(agent.email)
    page = client.get("/desk/").get_data(as_text=True)
    assert _deadline_cells(page) == [
        (breached.number, "breached", "Breached breached 4 d 3 h ago"),
        (at_risk.number, "at_risk", "At risk breach in 5 h"),
        (due_soon.number, "on_track", "due in 1 d 5 h"),
        (fresh.number, "on_track", "due in 2 d 6 h"),  # Wednesday 11 is Veterans Day
        (paused.number, "paused", "paused — waiting for customer 4 d 5 h left when it resumes"),
    ]
    assert "Next deadline" in page and "1 d is one business day of 8 hours" in page
    oldest = _deadline_cells(client.get("/desk/?order=oldest").get_data(as_text=True))
    assert [n for n, *_ in oldest] == [
        r.number for r in (breached, at_risk, paused, due_soon, fresh)
    ]
    unassigned = _deadline_cells(client.get("/desk/?assignee=none").get_data(as_text=True))
    assert [n for n, *_ in unassigned] == [r.number for r in (breached, at_risk, due_soon, fresh)]
    assert "4 open" in _text(client.get("/desk/?state=submitted")) and "Unassigned (4)" in page
