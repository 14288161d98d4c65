"""Fair assignment in Chromium: an agent goes away from the header with the keyboard, and a
manager turns automatic assignment on and gives an agent their own hours (issue 15)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from .conftest import log_in

SHOTS = os.environ.get("SHOTS_DIR")  # set to keep screenshots of each page at both widths


def _shoot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def test_an_agent_goes_away_from_the_header_with_the_keyboard(page, live_server):
    log_in(page, live_server, "agent@demo.test")
    page.goto(f"{live_server.url}/desk/")
    _shoot(page, "queue-header")
    toggle = page.get_by_role("button", name="Available")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_role("status")).to_contain_text("You are away")
    expect(page.get_by_role("button", name="Away", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    page.goto(f"{live_server.url}/desk/shift")
    expect(page.get_by_text("You are away and")).to_be_visible()
    _shoot(page, "my-shift")
    page.get_by_role("button", name="I am available").click()
    expect(page.get_by_role("button", name="Available")).to_be_visible()


def test_a_manager_turns_assignment_on_and_sets_an_agents_hours(page, live_server):
    log_in(page, live_server, "manager@demo.test")
    page.goto(f"{live_server.url}/manager/calendar")
    _shoot(page, "calendar")
    page.get_by_role("link", name="Agents' shifts").click()
    page.get_by_label("Assign new requests automatically (round robin)").check()
    page.get_by_label("Open requests per agent, at most").fill("5")
    page.get_by_role("button", name="Save assignment settings").click()
    expect(page.get_by_role("status")).to_contain_text("Automatic assignment is on.")
    expect(page.get_by_text("automatic assignment is on, at most 5")).to_be_visible()
    _shoot(page, "agents")
    page.get_by_role("link", name="Change Agent's working hours").click()
    page.get_by_label("Own working hours").check()
    page.get_by_label("Agent works on Friday").uncheck()
    page.get_by_label("Monday until").fill("13:00")
    _shoot(page, "agent-hours")
    page.get_by_role("button", name="Save working hours").click()
    expect(page.get_by_role("status")).to_contain_text("working hours are saved")
    row = page.get_by_role("row").filter(has_text="Support agent")
    expect(row).to_contain_text("Mon 09:00–13:00")
    expect(row).not_to_contain_text("Fri ")
