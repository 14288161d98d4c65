"""Escalation with action: SLA alerts to managers offer each request to an available agent in
one click, and the digest names the agents holding the most at-risk work."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from requests_queue.calendar_store import load_calendar
from requests_queue.models import OutboxMessage, Role
from requests_queue.requests.lifecycle import claim_request
from requests_queue.shifts import set_availability
from requests_queue.sla.digest import send_daily_digest
from requests_queue.sla.escalation import (
    agents_with_most_at_risk,
    reassign_link,
    suggest_assignees,
)
from requests_queue.sla.sweep import sweep_sla
from tests.conftest import actor_of

PHX = ZoneInfo("America/Phoenix")
URL = "http://desk.example"
FILED = datetime(2026, 11, 20, 10, tzinfo=PHX)  # Friday; due Wednesday 25 November 10:00
SWEPT = datetime(2026, 11, 25, 11, tzinfo=PHX)  # Wednesday, during business hours
MORNING = datetime(2026, 12, 1, 8, 0, tzinfo=PHX)  # Tuesday's digest, before opening


@pytest.fixture
def bob(make_user):
    return make_user("bob@support.example", Role.agent)


def _mails(session, kind: str) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    return list(session.scalars(query))


def _sweep(session, now=SWEPT):
    counts = sweep_sla(session, load_calendar(session), now, base_url=URL)
    session.commit()
    return counts


def test_a_managers_alert_offers_each_request_to_an_available_agent(
    session, customer, manager, agent, bob, file_opt_in
):
    set_availability(session, agent, False, FILED)  # away: never offered
    first = file_opt_in(customer, n=1, prefix="a")
    second = file_opt_in(customer, n=1, prefix="b")
    claim_request(session, file_opt_in(customer, n=1, prefix="c"), actor_of(bob), FILED)
    session.commit()
    _sweep(session)
    [mail] = [m for m in _mails(session, "sla_alert") if m.to_address == manager.email]
    text = mail.body_text
    # Bob holds one open request (the one he claimed) and is the only agent not away.
    for req in (first, second):
        assert f"R-{req.id:06d}" in text
        assert reassign_link(URL, req.id, bob.id) in text
    assert "Reassign to bob@support.example (on shift, 1 open)" in text
    assert "Reassign to bob@support.example (on shift, 2 open)" in text  # the second one spread
    assert f"?to={agent.id}" not in text


def test_an_agents_own_alert_has_no_reassignment_links(
    session, customer, manager, agent, bob, file_opt_in
):
    req = file_opt_in(customer, n=1)
    claim_request(session, req, actor_of(agent), FILED)
    session.commit()
    _sweep(session)
    [mail] = _mails(session, "sla_alert")
    assert mail.to_address == agent.email and "/reassign" not in mail.body_text


def test_with_nobody_available_the_alert_says_so(session, customer, manager, agent, file_opt_in):
    set_availability(session, agent, False, FILED)
    req = file_opt_in(customer, n=1)
    session.commit()
    _sweep(session)
    [mail] = _mails(session, "sla_alert")
    assert f"R-{req.id:06d}" in mail.body_text
    assert "No agent is available to take it" in mail.body_text


def test_the_current_assignee_is_never_suggested_and_on_shift_agents_come_first(
    session, customer, agent, bob, file_opt_in
):
    req = file_opt_in(customer, n=1)
    claim_request(session, req, actor_of(bob), FILED)
    session.commit()
    calendar = load_calendar(session)
    offers = suggest_assignees(session, calendar, SWEPT, [(req.id, bob.id)])
    assert offers[req.id].user.id == agent.id and offers[req.id].on_shift
    # At night both are off shift: still offered (the digest goes out before opening).
    night = datetime(2026, 11, 25, 23, tzinfo=PHX)
    assert not suggest_assignees(session, calendar, night, [(req.id, bob.id)])[req.id].on_shift


def test_the_digest_names_the_agents_with_the_most_at_risk_work_with_offers(
    session, customer, manager, agent, bob, file_opt_in
):
    for prefix in ("a", "b"):
        claim_request(session, file_opt_in(customer, n=1, prefix=prefix), actor_of(agent), FILED)
    held_by_bob = file_opt_in(customer, n=1, prefix="c")
    claim_request(session, held_by_bob, actor_of(bob), FILED)
    session.commit()
    _sweep(session)
    ranking = agents_with_most_at_risk(session, load_calendar(session), SWEPT)
    assert [(a.user.email, a.at_risk) for a in ranking] == [
        ("agent@support.example", 2),
        ("bob@support.example", 1),
    ]
    send_daily_digest(session, load_calendar(session), MORNING, base_url=URL)
    session.commit()
    [digest] = _mails(session, "sla_digest")
    text = digest.body_text
    section = text.split("Agents with the most at-risk work:")[1]
    assert re.search(
        r"agent@support\.example: 2 at risk.*bob@support\.example: 1 at risk", section, re.S
    )
    # Bob's request is offered to the other agent, and the other agent's to Bob.
    assert reassign_link(URL, held_by_bob.id, agent.id) in section
    assert section.count(f"?to={bob.id}") == 2
