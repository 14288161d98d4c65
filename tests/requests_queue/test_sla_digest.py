"""Specs for the managers' morning digest: the right numbers, once per business day."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from requests_queue.calendar_store import load_calendar
from requests_queue.models import ConsentRequest, OutboxMessage, RequestState, Role, SlaDigest
from requests_queue.requests.lifecycle import claim_request
from requests_queue.requests.timeline import request_timelines
from requests_queue.sla.clock import request_sla
from requests_queue.sla.digest import digest_numbers, send_daily_digest
from requests_queue.sla.engine import AT_RISK, BREACHED
from requests_queue.sla.line import micros
from requests_queue.sla.sweep import sweep_sla
from requests_queue.statuses import Actor, ActorKind
from tests.conftest import play_timeline

PHX = ZoneInfo("America/Phoenix")
URL = "http://desk.example"
MORNING = datetime(2026, 12, 1, 8, 0, tzinfo=PHX)  # Tuesday


def at(d: int, hh: int = 10) -> datetime:
    """An instant in November 2026, team time (Wednesday 11th is Veterans Day)."""
    return datetime(2026, 11, d, hh, tzinfo=PHX)


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
    # The sweep last ran on Wednesday 25th, when both were at risk; by Tuesday both are past 5
    # business days (Thursday 26th is Thanksgiving), and the digest says what the clocks show.
    assert "Breached (over 5 business days): 2" in text
    assert "At risk (over 3 business days):  0" in text
    assert "Unassigned:                      1" in text
    assert f"R-{backlog[0].id:06d}" in text and f"{URL}/desk/requests/{backlog[0].id}" in text
    assert session.get(SlaDigest, MORNING.date()).recipients == 2


def test_no_digest_on_a_day_the_team_does_not_work(session, backlog):
    saturday = datetime(2026, 11, 28, 8, 0, tzinfo=PHX)
    assert send(session, saturday) == {"sent": 0, "closed_day": 1}
    assert digests(session) == []


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 24, 16, tzinfo=PHX), (2, 0, 0, 1)),  # 2 days and 7 hours
        (datetime(2026, 11, 25, 10, tzinfo=PHX), (2, 0, 2, 1)),  # the sweep's morning
        (datetime(2026, 11, 27, 16, tzinfo=PHX), (2, 0, 2, 1)),  # 4 days and 7 hours
        (MORNING, (2, 2, 0, 1)),  # breached Friday 27th at 17:00; no sweep since Wednesday
    ],
)
def test_digest_numbers_equal_the_engine_clock_of_each_timeline(session, backlog, now, expected):
    calendar = load_calendar(session)
    numbers = digest_numbers(session, calendar, now)
    # The oracle: each open request's clock from its whole timeline, levels counted in Python.
    ids = session.scalars(sa.select(ConsentRequest.id)).all()
    slas = [request_sla(calendar, t, now) for t in request_timelines(session, ids).values()]
    open_ = [sla for sla in slas if sla.state.is_open]
    levels = Counter(sla.clock.level(micros(now)) for sla in open_)
    unassigned = session.scalar(
        sa.select(sa.func.count()).where(ConsentRequest.assignee_id.is_(None))
    )
    oracle = (len(open_), levels[BREACHED], levels[AT_RISK], unassigned)
    assert tuple(numbers.values()) == oracle == expected


def test_a_request_waiting_for_the_customer_counts_as_its_clock_stopped(session, customer, agent):
    # Asked after 2 business days: not at risk, however long the customer takes; asked after
    # 4, it stays at risk while it waits. No sweep has run.
    early = play_timeline(
        session, customer,
        [(at(2), "file", customer), (at(2), "claim", agent), (at(4), "ask", agent)],
    )  # fmt: skip
    late = play_timeline(
        session, customer,
        [(at(2), "file", customer), (at(2), "claim", agent), (at(6), "ask", agent)],
    )  # fmt: skip
    now = at(20)
    numbers = digest_numbers(session, load_calendar(session), now)
    assert (numbers["open"], numbers["breached"], numbers["at_risk"]) == (2, 0, 1)
    assert early.state is late.state is RequestState.awaiting_customer
