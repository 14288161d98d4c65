"""Specs for the managers' morning digest: the right numbers, once per business day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from requests_queue.calendar_store import load_calendar
from requests_queue.models import OutboxMessage, Role, SlaDigest
from requests_queue.requests.lifecycle import claim_request
from requests_queue.sla.digest import digest_numbers, send_daily_digest
from requests_queue.sla.sweep import sweep_sla
from requests_queue.statuses import Actor, ActorKind

PHX = ZoneInfo("America/Phoenix")
URL = "http://desk.example"
MORNING = datetime(2026, 12, 1, 8, 0, tzinfo=PHX)  # Tuesday


def actor(user) -> Actor:
    return Actor(ActorKind(user.role.value), user.id)


@pytest.fixture
def backlog(session, file_opt_in, customer, agent, manager, make_user):
    """Two requests filed Friday 20 November, at risk by Wednesday; an agent claimed one."""
    make_user("second.manager@support.example", Role.manager)
    claimed = file_opt_in(customer, n=1, prefix="a")
    claim_request(session, claimed, actor(agent), datetime(2026, 11, 20, 10, tzinfo=PHX))
    unassigned = file_opt_in(customer, n=1, prefix="b")
    session.commit()
    sweep_sla(session, load_calendar(session), datetime(2026, 11, 25, 10, tzinfo=PHX), base_url=URL)
    session.commit()
    return claimed, unassigned


def digests(session) -> list[OutboxMessage]:
    return list(session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "sla_digest")))


def send(session, now=MORNING) -> dict[str, int]:
    counts = send_daily_digest(session, load_calendar(session), now, base_url=URL)
    session.commit()
    return counts


def test_every_manager_gets_the_numbers_once_a_day(session, backlog, manager):
    assert send(session) == {"sent": 2}
    assert send(session) == {"sent": 0, "already_sent": 1}
    mails = digests(session)
    assert sorted(m.to_address for m in mails) == [
        "manager@support.example",
        "second.manager@support.example",
    ]
    text = mails[0].body_text
    assert "At risk (over 3 business days):  2" in text
    assert "Unassigned:                      1" in text
    assert f"R-{backlog[0].id:06d}" in text and f"{URL}/desk/requests/{backlog[0].id}" in text
    assert session.get(SlaDigest, MORNING.date()).recipients == 2


def test_no_digest_on_a_day_the_team_does_not_work(session, backlog):
    saturday = datetime(2026, 11, 28, 8, 0, tzinfo=PHX)
    assert send(session, saturday) == {"sent": 0, "closed_day": 1}
    assert digests(session) == []


def test_digest_numbers_equal_a_plain_count_of_the_marks(session, backlog):
    numbers = digest_numbers(session)
    plain = session.execute(
        sa.text(
            "SELECT count(*),"
            " sum(CASE WHEN EXISTS (SELECT 1 FROM sla_events e WHERE e.request_id = r.id"
            "   AND e.threshold = 'breached') THEN 1 ELSE 0 END),"
            " sum(CASE WHEN EXISTS (SELECT 1 FROM sla_events e WHERE e.request_id = r.id"
            "   AND e.threshold = 'at_risk') AND NOT EXISTS (SELECT 1 FROM sla_events e"
            "   WHERE e.request_id = r.id AND e.threshold = 'breached') THEN 1 ELSE 0 END),"
            " sum(CASE WHEN r.assignee_id IS NULL THEN 1 ELSE 0 END)"
            " FROM consent_requests r"
            " WHERE r.state IN ('submitted', 'in_review', 'awaiting_customer')"
        )
    ).one()
    assert tuple(numbers.values()) == tuple(plain) == (2, 0, 2, 1)
