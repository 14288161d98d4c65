"""The SLA dashboard in Chromium: a breached request, reassigned, and the CSV downloaded."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from requests_queue.calendar_store import load_calendar
from requests_queue.models import ConsentRequest, User
from requests_queue.now import now_utc
from requests_queue.reports import refresh_report_facts
from requests_queue.sla.sweep import sweep_sla
from support.extensions import db
from tests.conftest import play_timeline

from .conftest import log_in

SHOTS = Path("/tmp/shots")


def _breached_request(live_server) -> tuple[str, str]:
    """A request filed two weeks ago and never touched, marked breached by the sweep."""
    with live_server.app.app_context():
        session = db.session
        customer = session.scalar(sa.select(User).where(User.email == "customer@demo.test"))
        agent = session.scalar(sa.select(User).where(User.email == "agent@demo.test"))
        now = now_utc()
        req = play_timeline(
            session, customer, [(now - timedelta(days=14), "file", customer)],
            base_url=live_server.url,
        )  # fmt: skip
        calendar = load_calendar(session)
        assert sweep_sla(session, calendar, now, base_url=live_server.url)["breached"] == 1
        refresh_report_facts(session, calendar, now)
        session.commit()
        return req.number, agent.display_name


def test_manager_sees_a_breached_request_reassigns_it_and_downloads_the_csv(page, live_server):
    number, agent_name = _breached_request(live_server)
    log_in(page, live_server, "manager@demo.test")
    expect(page.get_by_role("heading", name="SLA dashboard")).to_be_visible()  # the home

    expect(page.get_by_role("heading", name="Breached and still open (1)")).to_be_visible()
    row = page.locator("tr", has=page.get_by_role("link", name=number))
    expect(row.first).to_contain_text("Unassigned")
    expect(page.locator("#weekly-chart")).to_be_visible()  # Chart.js drew the weekly chart
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "dashboard-breached.png"), full_page=True)

    page.get_by_label(f"Reassign {number} to").select_option(label=agent_name)
    page.get_by_role("button", name=f"Reassign {number}").click()
    expect(page.get_by_text(f"{number} is assigned to {agent_name}.")).to_be_visible()
    expect(row.first).to_contain_text(agent_name)
    with live_server.app.app_context():
        req = db.session.scalar(sa.select(ConsentRequest))
        assert req.assignee.display_name == agent_name

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV of the breached requests").click()
    download = info.value
    assert download.suggested_filename.startswith("sla-breached-")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    [header, line] = list(csv.reader(io.StringIO(text)))
    assert header[:5] == ["Request", "Account", "Kind", "State", "Assignee"]
    assert line[:5] == [number, "Demo Co", "Mass opt-in", "In review", agent_name]
    assert float(line[-1]) > 0  # business hours late
