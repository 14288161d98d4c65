"""The numbers the dashboard page and its CSV show equal a plain SQL query over the events."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa

from requests_queue.calendar_store import load_calendar
from requests_queue.models import Role, User
from requests_queue.reports import between
from support.manager import dashboard_views
from tests.requests_queue.test_reports_sql import NOW, independent_figures, random_timelines


@pytest.fixture
def page_client(session, client, customer, agent, manager, make_user, monkeypatch):
    """Thirty random requests; the manager logged in; the page's clock frozen at NOW."""
    other = make_user("second@support.example", Role.agent)
    random_timelines(session, customer, [agent, other, manager], manager)
    monkeypatch.setattr(dashboard_views, "now_utc", lambda: NOW)
    client.login(manager.email)
    return client


def csv_table(client, table: str, query: str) -> list[list[str]]:
    response = client.get(f"/manager/dashboard?format=csv&table={table}&{query}")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def hours(seconds) -> str:
    return "" if seconds is None else f"{seconds / 3600:.2f}"


def pct(part, whole) -> str:
    return f"{100 * part / whole:.1f}" if whole else ""


def test_page_and_csv_numbers_equal_the_independent_sql(session, page_client):
    query = "start=2026-11-02&end=2026-11-20"
    page = page_client.get(f"/manager/dashboard?{query}").get_data(as_text=True)
    calendar = load_calendar(session)
    want = independent_figures(
        session, between(calendar, NOW, date(2026, 11, 2), date(2026, 11, 20)), NOW
    )
    summary = dict(csv_table(page_client, "summary", query)[1:])
    decided, ok3, ok5 = want["decided"], want["within_due"], want["within_breach"]
    assert summary["Decisions"] == str(decided)
    assert summary["Decided within 3 business days"] == str(ok3)
    assert summary["% decided within 5 business days"] == pct(ok5, decided)
    assert summary["% decided within 3 business days"] == pct(ok3, decided)
    assert summary["Breaches"] == str(want["breaches"])
    assert summary["Average business hours late"] == hours(want["late_avg_s"])
    assert summary["Most business hours late"] == hours(want["late_max_s"])
    assert summary["Median business hours to decision"] == hours(want["decision_s"][0.5])
    assert summary["90th percentile business hours to decision"] == hours(want["decision_s"][0.9])
    assert summary["First responses"] == str(want["responses"])
    assert summary["Median business hours to first response"] == hours(want["response_s"][0.5])
    assert summary["Breached now"] == str(len(want["breached_now"]))
    assert summary["At risk now"] == str(len(want["at_risk_now"]))
    # The same figures on the page's tiles.
    assert f"{100 * ok5 / decided:.1f} %" in page and f"{ok5} of {decided} decisions" in page
    assert f"{want['decision_s'][0.5] / 3600:.1f} h" in page
    assert f"Breaches in the period ({want['breaches']})" in page
    weekly = csv_table(page_client, "weekly", query)[1:]
    assert [(r[0], int(r[1]), int(r[2]), int(r[4])) for r in weekly] == [
        (monday.isoformat(), filed, made, ok) for monday, filed, made, ok in want["weekly"]
    ]
    agents = {
        r[1]: tuple(int(r[i]) for i in (2, 3, 4, 6))
        for r in csv_table(page_client, "agents", query)[1:]
    }
    emails = dict(session.execute(sa.select(User.id, User.email)).all())
    assert {e: v for e, v in agents.items() if any(v)} == {
        emails[uid]: v for uid, v in want["agents"].items()
    }
