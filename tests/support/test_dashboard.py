"""Specs for the SLA dashboard page: managers only, the period picker, CSV, reassignment.

The page's clock is frozen at Wednesday 25 November 2026, 12:00 in Phoenix.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from requests_queue.models import ConsentRequest, RequestEvent, Role
from support.manager import dashboard_views
from tests.conftest import play_timeline

NOW = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)


def phx(day: int, hh: int) -> datetime:
    return datetime(2026, 11, day, hh + 7, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    """The dashboard reads the time through its module's now_utc."""
    monkeypatch.setattr(dashboard_views, "now_utc", lambda: NOW)


@pytest.fixture
def breached(session, customer):
    """Filed Tuesday 17 November 09:00, never touched: breached Monday 23 at 17:00, 11 h late."""
    return play_timeline(session, customer, [(phx(17, 9), "file", customer)])


@pytest.fixture
def as_manager(client, manager):
    client.login(manager.email)
    return client


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize("role", [Role.agent, Role.customer])
def test_only_managers_see_the_dashboard(client, make_user, make_account, role):
    account = make_account("Initech") if role is Role.customer else None
    user = make_user(f"{role.value}@x.example", role, account)
    client.login(user.email)
    assert client.get("/manager/dashboard").status_code == 403
    assert client.get("/manager/dashboard?format=csv&table=breached").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/manager/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_manager_home_is_the_dashboard(as_manager):
    response = as_manager.get("/manager/")
    assert response.status_code == 302 and response.headers["Location"] == "/manager/dashboard"
    page = as_manager.get("/manager/dashboard").get_data(as_text=True)
    assert "Background jobs" not in page  # the jobs table lives on the System page


def test_dashboard_shows_a_breached_request_with_how_late_it_is(as_manager, breached):
    page = as_manager.get("/manager/dashboard").get_data(as_text=True)
    assert "Last 30 days (27 Oct 2026 – 25 Nov 2026)" in page
    assert "Breached and still open (1)" in page
    row = page[page.index(f'id="request-{breached.id}"') :]
    row = row[: row.index("</tr>")]
    assert breached.number in row and "Mon 23 Nov, 17:00 MST" in row
    assert "51.0 h" in row and "11.0 h" in row  # on the clock, and late
    assert f'action="/manager/dashboard/requests/{breached.id}/reassign"' in row


def test_period_picker_offers_presets_and_dates(as_manager, breached):
    page = as_manager.get("/manager/dashboard?days=7").get_data(as_text=True)
    assert "Last 7 days (19 Nov 2026 – 25 Nov 2026)" in page
    assert 'aria-current="true">Last 7 days' in page
    page = as_manager.get("/manager/dashboard?start=2026-11-01&end=2026-11-20").get_data(
        as_text=True
    )
    assert "01 Nov 2026 – 20 Nov 2026" in page and "Breaches in the period (0)" in page
    assert 'value="2026-11-01"' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-11-20&end=2026-11-01", "The first day must not be after the last day"),
        ("start=2026-11-01&end=2026-12-01", "Choose a day up to today"),
        ("start=2026-11-01", "Choose the last day as well."),
        ("end=2026-11-01", "Choose the first day as well."),
        ("start=soon&end=2026-11-01", "Not a valid date value."),
    ],
)
def test_period_mistakes_are_shown_next_to_the_dates(as_manager, query, message):
    page = as_manager.get(f"/manager/dashboard?{query}").get_data(as_text=True)
    assert message in page and "so this shows the last 30 days" in page


def test_every_table_downloads_as_csv(as_manager, breached):
    for table in ("summary", "weekly", "backlog", "agents", "breaches", "breached", "at_risk"):
        response = as_manager.get(f"/manager/dashboard?format=csv&table={table}&days=7")
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="sla-{table.replace("_", "-")}-20261119-20261125.csv"'
        )
        assert len(rows_of(response)) >= 2 or table == "at_risk"
    rows = rows_of(as_manager.get("/manager/dashboard?format=csv&table=breached"))
    assert rows[0][:2] == ["Request", "Account"]
    assert rows[1][0] == breached.number and rows[1][-2:] == ["51.00", "11.00"]
    assert rows[1][7] == "2026-11-24T00:00:00Z"  # Monday 17:00 in Phoenix
    backlog = rows_of(as_manager.get("/manager/dashboard?format=csv&table=backlog"))
    assert backlog[1:] == [["0–1", "0", "0", "0"], ["1–3", "0", "0", "0"],
                           ["3–5", "0", "0", "0"], ["5+", "1", "1", "0"]]  # fmt: skip


def test_csv_cells_that_spreadsheets_would_run_are_neutralised(
    session, as_manager, make_account, make_user
):
    for name in ('=HYPERLINK("http://evil.example")', "+1 555", "-2+3", "@SUM(A1)"):
        user = make_user(f"{abs(hash(name))}@evil.example", Role.customer, make_account(name))
        play_timeline(session, user, [(phx(17, 9), "file", user)])
    rows = rows_of(as_manager.get("/manager/dashboard?format=csv&table=breached"))
    accounts = sorted(row[1] for row in rows[1:])
    assert accounts == ["'+1 555", "'-2+3", '\'=HYPERLINK("http://evil.example")', "'@SUM(A1)"]


def test_unknown_csv_table_is_not_found(as_manager):
    assert as_manager.get("/manager/dashboard?format=csv&table=users").status_code == 404


def test_reassigning_from_the_dashboard_gives_the_request_to_the_agent(
    session, as_manager, breached, agent
):
    response = as_manager.post(
        f"/manager/dashboard/requests/{breached.id}/reassign?days=7", {"assignee": agent.id}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/manager/dashboard?days=7#attention"
    session.expire_all()
    assert session.get(ConsentRequest, breached.id).assignee_id == agent.id
    page = as_manager.get("/manager/dashboard?days=7").get_data(as_text=True)
    assert f"{breached.number} is assigned to {agent.email}." in page
    last = session.scalar(
        sa.select(RequestEvent).where(RequestEvent.request_id == breached.id)
        .order_by(RequestEvent.id.desc()).limit(1)
    )  # fmt: skip
    assert (last.kind.value, last.assignee_id) == ("assigned", agent.id)


def test_reassigning_without_choosing_someone_says_so_on_the_row(as_manager, breached):
    response = as_manager.post(
        f"/manager/dashboard/requests/{breached.id}/reassign", {"assignee": "0"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    row = page[page.index(f'id="request-{breached.id}"') :]
    assert "Choose an agent or manager." in row[: row.index("</tr>")]


def test_reassigning_to_the_current_assignee_is_refused(session, as_manager, breached, agent):
    as_manager.post(f"/manager/dashboard/requests/{breached.id}/reassign", {"assignee": agent.id})
    response = as_manager.post(
        f"/manager/dashboard/requests/{breached.id}/reassign", {"assignee": agent.id}
    )
    assert response.status_code == 400
    assert "is already assigned to them" in response.get_data(as_text=True)


def test_agents_cannot_reassign_from_the_dashboard(client, agent, breached):
    client.login(agent.email)
    response = client.post(
        f"/manager/dashboard/requests/{breached.id}/reassign", {"assignee": agent.id}
    )
    assert response.status_code == 403


def test_reassigning_needs_the_csrf_token(as_manager, breached, agent):
    response = as_manager.post(
        f"/manager/dashboard/requests/{breached.id}/reassign",
        {"assignee": agent.id},
        csrf=False,
    )
    assert response.status_code == 400


def test_chart_data_is_embedded_as_json_and_drawn_by_the_vendored_chart_js(as_manager, breached):
    page = as_manager.get("/manager/dashboard").get_data(as_text=True)
    data = re.search(r'<script type="application/json" id="weekly-chart-data">(.*?)</script>', page)
    chart = json.loads(data.group(1))
    assert chart["labels"] == ["26 Oct", "02 Nov", "09 Nov", "16 Nov", "23 Nov"]
    assert chart["filed"] == [0, 0, 0, 1, 0] and chart["within5"] == [None] * 5
    assert "/static/vendor/chart.umd.min.js" in page and "/static/dashboard.js" in page
    assert "cdn" not in page.lower()


def test_page_says_when_the_scheduler_still_has_figures_to_update(
    as_manager, breached, monkeypatch
):
    monkeypatch.setattr(dashboard_views, "PAGE_REFRESH_LIMIT", 0)
    page = as_manager.get("/manager/dashboard").get_data(as_text=True)
    assert "1 requests changed since the figures were last" in page
    monkeypatch.setattr(dashboard_views, "PAGE_REFRESH_LIMIT", 5000)
    page = as_manager.get("/manager/dashboard").get_data(as_text=True)
    assert "changed since the figures" not in page and "Breached and still open (1)" in page
