"""Fair assignment (issue 15): round robin among agents on shift, capped by open load, and
work given back to the pool before it is at risk. The team calendar is the default one:
Monday–Friday 09:00–17:00 America/Phoenix (UTC−7, no daylight saving), US holidays."""

import threading
import time as _time
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.errors import ValidationError
from requests_queue.models import ConsentRequest, RequestEvent, RequestState, Role
from requests_queue.requests import lifecycle as ops
from requests_queue.requests.auto_assign import auto_assign, balance_assignments
from requests_queue.requests.timeline import customer_timeline, request_timeline
from requests_queue.shifts import (
    load_settings,
    set_availability,
    set_working_hours,
    update_settings,
)
from requests_queue.statuses import ActorKind
from tests.conftest import actor_of, play_timeline

MON = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # Monday 10:00 team time
THANKSGIVING = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # Thursday 11:00, a US holiday
SATURDAY = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def agents(make_user):
    """Three agents, in id order (round robin's tie-break)."""
    return [make_user(f"a{i}@support.example", Role.agent) for i in (1, 2, 3)]


@pytest.fixture
def turn_on(session, manager):
    """Switch automatic assignment on with a cap: turn_on(cap=10)."""

    def on(cap: int = 10, enabled: bool = True):
        update_settings(session, enabled, cap, actor_of(manager), MON)
        session.commit()

    return on


def file_at(session, customer, when) -> ConsentRequest:
    """File a one-address request at `when` (auto assignment runs inside the filing)."""
    return play_timeline(session, customer, [(when, "file", customer)])


def holders(session, requests) -> list[str | None]:
    session.expire_all()
    out = []
    for req in requests:
        req = session.get(ConsentRequest, req.id)
        out.append(req.assignee.email.split("@")[0] if req.assignee else None)
    return out


def test_disabled_by_default_nothing_is_assigned(session, customer, agents):
    assert load_settings(session).is_enabled is False
    reqs = [file_at(session, customer, MON) for _ in range(2)]
    assert holders(session, reqs) == [None, None]
    assert balance_assignments(session, MON) == {"released": 0, "assigned": 0}
    assert holders(session, reqs) == [None, None]
    assert {r.state for r in reqs} == {RequestState.submitted}


def test_turned_off_again_stops_assigning(session, customer, agents, turn_on):
    turn_on(cap=10, enabled=False)
    assert holders(session, [file_at(session, customer, MON)]) == [None]


def test_round_robin_takes_agents_in_turn(session, customer, agents, turn_on):
    turn_on()
    reqs = [file_at(session, customer, MON + n * timedelta(minutes=1)) for n in range(5)]
    assert holders(session, reqs) == ["a1", "a2", "a3", "a1", "a2"]
    assert {r.state for r in reqs} == {RequestState.in_review}


def test_the_assignment_is_a_timeline_event_naming_round_robin(session, customer, agents, turn_on):
    turn_on(cap=4)
    req = file_at(session, customer, MON)
    assigned = request_timeline(session, req.id)[-1]
    assert assigned.actor_kind is ActorKind.system and assigned.actor_user_id is None
    assert assigned.assignee_id == agents[0].id
    assert "round robin" in assigned.body and "1 of 4 open" in assigned.body


def test_a_manual_reassignment_names_the_manager(session, customer, agents, manager, turn_on):
    turn_on()
    req = file_at(session, customer, MON)
    ops.assign_request(session, req, agents[2], actor_of(manager), MON + HOUR)
    session.commit()
    last = request_timeline(session, req.id)[-1]
    assert (last.actor_kind, last.actor_user_id, last.assignee_id) == (
        ActorKind.manager,
        manager.id,
        agents[2].id,
    )


def test_an_away_agent_gets_nothing(session, customer, agents, turn_on):
    turn_on()
    set_availability(session, agents[1], False, MON)
    session.commit()
    reqs = [file_at(session, customer, MON) for _ in range(4)]
    assert holders(session, reqs) == ["a1", "a3", "a1", "a3"]
    set_availability(session, agents[1], True, MON)  # back: their turn comes first
    session.commit()
    assert holders(session, [file_at(session, customer, MON)]) == ["a2"]


def test_an_agent_outside_their_own_hours_gets_nothing(session, customer, agents, turn_on):
    turn_on()
    afternoons = {wd: (time(13), time(17)) for wd in range(5)}
    set_working_hours(session, agents[0], afternoons, MON)
    session.commit()
    morning = [file_at(session, customer, MON) for _ in range(2)]  # 10:00
    assert holders(session, morning) == ["a2", "a3"]
    afternoon = file_at(session, customer, MON + 4 * HOUR)  # 14:00
    assert holders(session, [afternoon]) == ["a1"]


def test_nobody_is_on_shift_on_a_holiday_or_a_weekend(session, customer, agents, turn_on):
    turn_on()
    every_day = {wd: (time(9), time(17)) for wd in range(7)}
    set_working_hours(session, agents[0], every_day, MON)  # their own hours, still holidays
    session.commit()
    reqs = [file_at(session, customer, THANKSGIVING), file_at(session, customer, SATURDAY)]
    assert holders(session, reqs) == [None, "a1"]  # Saturday: only a1 works weekends


def test_the_cap_on_open_requests_is_respected(session, customer, agents, turn_on):
    turn_on(cap=1)
    reqs = [file_at(session, customer, MON) for _ in range(4)]
    assert holders(session, reqs) == ["a1", "a2", "a3", None]
    # The job assigns the waiting one as soon as an agent has room again.
    assert balance_assignments(session, MON + HOUR) == {"released": 0, "assigned": 0}
    ops.withdraw_request(session, reqs[1], actor_of(customer), MON + HOUR)
    session.commit()
    assert balance_assignments(session, MON + 2 * HOUR) == {"released": 0, "assigned": 1}
    session.commit()
    assert holders(session, reqs) == ["a1", "a2", "a3", "a2"]  # a2 withdrawn, then the 4th


def test_a_deactivated_agent_gets_nothing(session, customer, agents, turn_on):
    turn_on()
    agents[0].is_active = False
    session.commit()
    assert holders(session, [file_at(session, customer, MON)]) == ["a2"]


def test_the_cap_must_be_a_sensible_number(session, manager):
    for bad in (None, 0, 1001):
        with pytest.raises(ValidationError) as refused:
            update_settings(session, True, bad, actor_of(manager), MON)
        assert refused.value.field == "max_open_per_agent"


# --- Giving work back: due 3 business days after filing, Monday 10:00 → Thursday 10:00 ---

DUE = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # Thursday 10:00 team time


def _hold(session, customer, agents, turn_on):
    turn_on()
    set_availability(session, agents[1], False, MON)
    set_availability(session, agents[2], False, MON)
    session.commit()
    req = file_at(session, customer, MON)
    assert holders(session, [req]) == ["a1"]
    return req


def test_an_away_agent_keeps_work_that_is_not_close_to_at_risk(session, customer, agents, turn_on):
    req = _hold(session, customer, agents, turn_on)
    set_availability(session, agents[0], False, MON + HOUR)
    session.commit()
    wednesday_noon = DUE - 22 * HOUR  # 6 business hours left
    assert balance_assignments(session, wednesday_noon)["released"] == 0
    session.commit()
    assert holders(session, [req]) == ["a1"]


def test_an_away_agents_work_returns_to_the_pool_before_it_is_at_risk(
    session, customer, agents, turn_on
):
    from requests_queue.calendar_store import load_calendar
    from requests_queue.sla.sweep import sweep_sla

    req = _hold(session, customer, agents, turn_on)
    set_availability(session, agents[0], False, MON + HOUR)
    set_availability(session, agents[2], True, MON + HOUR)
    session.commit()
    before = DUE - timedelta(minutes=50)
    assert balance_assignments(session, before) == {"released": 1, "assigned": 1}
    session.commit()
    assert holders(session, [req]) == ["a3"]  # the pool went straight to who is on shift
    released, reassigned = request_timeline(session, req.id)[-2:]
    assert (released.from_state, released.to_state) == (S.in_review, S.submitted)
    assert released.assignee_id is None and released.actor_kind is ActorKind.system
    assert "a1@support.example is away" in released.body
    assert reassigned.assignee_id == agents[2].id
    # The customer sees none of the shuffling, and the SLA marks it at risk on a3's desk.
    assert [e.kind.value for e in customer_timeline(session, req.id)] == ["filed", "assigned"]
    sweep_sla(session, load_calendar(session), DUE + HOUR, base_url="http://x")
    session.commit()
    assert holders(session, [req]) == ["a3"]


def test_off_shift_work_returns_to_the_pool_and_waits_when_nobody_works(
    session, customer, agents, turn_on
):
    req = _hold(session, customer, agents, turn_on)
    mon_to_wed = {wd: (time(9), time(17)) for wd in range(3)}
    set_working_hours(session, agents[0], mon_to_wed, MON)
    session.commit()
    # Thursday 09:30: a1 does not work Thursdays and the others are away.
    counts = balance_assignments(session, DUE - timedelta(minutes=30))
    session.commit()
    assert counts == {"released": 1, "assigned": 0}
    assert holders(session, [req]) == [None]
    assert session.get(ConsentRequest, req.id).state is S.submitted
    assert "a1@support.example is off shift" in request_timeline(session, req.id)[-1].body
    # Running again changes nothing; an agent back later gets it.
    assert balance_assignments(session, DUE - timedelta(minutes=29))["released"] == 0
    set_availability(session, agents[1], True, DUE)
    session.commit()
    assert balance_assignments(session, DUE + timedelta(minutes=1))["assigned"] == 1
    session.commit()
    assert holders(session, [req]) == ["a2"]


def test_work_held_by_someone_on_shift_stays(session, customer, agents, turn_on):
    req = _hold(session, customer, agents, turn_on)
    assert balance_assignments(session, DUE + HOUR)["released"] == 0  # at risk, but a1 works
    session.commit()
    assert holders(session, [req]) == ["a1"]


def test_disabled_gives_nothing_back(session, customer, agents, turn_on):
    req = _hold(session, customer, agents, turn_on)
    set_availability(session, agents[0], False, MON)
    turn_on(enabled=False)
    assert balance_assignments(session, DUE - timedelta(minutes=30))["released"] == 0
    session.commit()
    assert holders(session, [req]) == ["a1"]


S = RequestState


# --- Concurrency (PostgreSQL: the settings row lock orders the turns) ---


def _pg_only(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer")


def test_two_requests_assigned_at_once_go_to_two_agents(
    app, db, session, customer, make_user, turn_on
):
    _pg_only(db)
    a1, a2 = (make_user(f"c{i}@support.example", Role.agent) for i in (1, 2))
    turn_on(cap=1)
    file_at(session, customer, MON - 2 * HOUR)  # 08:00: nobody on shift, both in the pool
    file_at(session, customer, MON - 2 * HOUR)
    ids = session.scalars(sa.select(ConsentRequest.id).order_by(ConsentRequest.id)).all()
    ready, got, errors = threading.Barrier(2), {}, []

    def assign(request_id):
        try:
            with app.app_context(), Session(db.engine) as s:
                req = s.get(ConsentRequest, request_id)
                ready.wait()
                user = auto_assign(s, req, MON)
                got[request_id] = user.id if user else None
                _time.sleep(0.3)  # hold the turn: the other must wait, then see this load
                s.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=assign, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    assert sorted(got.values()) == sorted([a1.id, a2.id])


def test_two_schedulers_running_the_job_at_once_give_back_once(
    app, db, session, customer, agents, turn_on
):
    _pg_only(db)
    req = _hold(session, customer, agents, turn_on)
    set_availability(session, agents[0], False, MON + HOUR)
    session.commit()
    ready, counts, errors = threading.Barrier(2), [], []

    def run():
        try:
            with app.app_context(), Session(db.engine) as s:
                ready.wait()
                counts.append(balance_assignments(s, DUE - timedelta(minutes=30)))
                _time.sleep(0.2)
                s.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    assert sorted(c["released"] for c in counts) == [0, 1]
    released = session.scalars(
        sa.select(RequestEvent).where(
            RequestEvent.request_id == req.id, RequestEvent.to_state == S.submitted
        )
    ).all()
    assert len([e for e in released if e.from_state is S.in_review]) == 1


def test_round_robin_is_not_a_first_response_but_the_agents_question_is(
    session, customer, agents, turn_on
):
    from requests_queue.calendar_store import load_calendar
    from requests_queue.models import ReportFact
    from requests_queue.reports.facts import refresh_report_facts
    from requests_queue.sla.clock import request_sla

    turn_on()
    req = file_at(session, customer, MON)
    calendar = load_calendar(session)
    assert request_sla(calendar, request_timeline(session, req.id), MON).first_response_at is None
    asked = MON + 2 * HOUR
    ops.ask_customer(session, req, "Which form?", actor_of(agents[0]), asked, base_url="http://x")
    session.commit()
    assert (
        request_sla(calendar, request_timeline(session, req.id), asked).first_response_at == asked
    )
    refresh_report_facts(session, calendar, asked)
    assert session.get(ReportFact, req.id).first_response_at == asked
