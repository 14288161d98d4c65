"""Specs for the SLA sweep: each threshold recorded once, notified once, at the right hours."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from requests_queue.calendar_store import add_holiday, load_calendar
from requests_queue.jobs.runner import JobRunner
from requests_queue.models import (
    ConsentRequest,
    EmailField,
    JobOutcome,
    JobRun,
    OutboxMessage,
    RejectReason,
    SlaEvent,
)
from requests_queue.models import SlaThreshold as T
from requests_queue.requests.filing import file_request
from requests_queue.requests.lifecycle import (
    answer_question,
    ask_customer,
    claim_request,
    reject_request,
)
from requests_queue.requests.targets import OptInTarget
from requests_queue.requests.timeline import request_timelines
from requests_queue.selection import ContactFilter
from requests_queue.sla.clock import request_sla
from requests_queue.sla.sweep import sweep_sla
from requests_queue.statuses import Actor, ActorKind
from tests.requests_queue.test_sla_deadlines import stored

PHX = ZoneInfo("America/Phoenix")
QUIET = {"at_risk": 0, "breached": 0, "notified": 0, "emails": 0, "clocks_computed": 0}
URL = "http://desk.example"
FILED = datetime(2026, 11, 20, 8, 0, tzinfo=PHX)  # Friday before opening: the clock starts 09:00
# Due Tue 24 Nov 17:00, breached Fri 27 Nov 17:00 (Thanksgiving, Thu 26, does not count).


def at(d: int, hh: int, mm: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, d, hh, mm, tzinfo=PHX)


def actor(user) -> Actor:
    return Actor(ActorKind(user.role.value), user.id)


@pytest.fixture
def file_at(session, make_contact, evidence, customer):
    """File a one-address mass opt-in request at a given instant: file_at(when)."""
    numbers = itertools.count()

    def file(when: datetime = FILED) -> ConsentRequest:
        prefix = f"req{next(numbers):02d}x"
        make_contact(customer, first_name=prefix, email=f"{prefix}@acme.example")
        target = OptInTarget(ContactFilter(customer.account_id, search=prefix), (EmailField.email,))
        req = file_request(session, target, evidence, actor(customer), when, base_url=URL)
        session.commit()
        return req

    return file


@pytest.fixture
def sweep(session):
    """Run the sweep at `now` and commit, as the job does."""

    def run(now: datetime) -> dict[str, int]:
        counts = sweep_sla(session, load_calendar(session), now, base_url=URL)
        session.commit()
        return counts

    return run


def marks(session) -> set[tuple[int, T]]:
    return set(session.execute(sa.select(SlaEvent.request_id, SlaEvent.threshold)).all())


def alerts(session) -> list[OutboxMessage]:
    return list(
        session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == "sla_alert")
            .order_by(OutboxMessage.id)
        )
    )


def test_nothing_is_marked_before_three_business_days(session, file_at, sweep):
    file_at()
    assert sweep(at(24, 16, 59)) == QUIET
    assert marks(session) == set()


def test_at_risk_after_hours_is_recorded_at_once_and_told_when_the_team_opens(
    session, file_at, sweep, manager
):
    req = file_at()
    assert sweep(at(24, 17))["at_risk"] == 1  # 17:00: closed, so nobody is emailed yet
    assert marks(session) == {(req.id, T.at_risk)} and alerts(session) == []
    sweep(at(25, 8, 55))
    assert alerts(session) == []
    sweep(at(25, 9))
    [mail] = alerts(session)
    assert (mail.to_address, mail.subject) == (manager.email, "SLA: 1 at risk")
    assert f"R-{req.id:06d}" in mail.body_text and "unassigned" in mail.body_text
    assert f"{URL}/desk/requests/{req.id}" in mail.body_text


def test_running_the_sweep_again_changes_nothing(session, file_at, sweep, manager):
    file_at()
    first = sweep(at(25, 10))
    again = sweep(at(25, 10))
    later = sweep(at(25, 10, 5))
    assert (first["at_risk"], first["emails"]) == (1, 1)
    assert again == later == QUIET
    assert len(alerts(session)) == 1


def test_the_assignee_is_told_not_the_managers(session, file_at, sweep, agent, manager):
    req = file_at()
    claim_request(session, req, actor(agent), at(20, 10))
    session.commit()
    sweep(at(25, 10))
    [mail] = alerts(session)
    assert mail.to_address == agent.email and "assigned to you" in mail.body_text
    notified_to = session.scalar(sa.select(SlaEvent.notified_to))
    assert notified_to == agent.email


def test_a_breach_is_told_at_once_even_at_night_and_not_also_as_at_risk(
    session, file_at, sweep, manager
):
    req = file_at()
    counts = sweep(at(28, 3))  # Saturday night: both thresholds crossed while nobody swept
    assert (counts["at_risk"], counts["breached"], counts["notified"]) == (1, 1, 1)
    [mail] = alerts(session)
    assert mail.subject == "SLA: 1 breached"
    assert "At risk" not in mail.body_text
    assert marks(session) == {(req.id, T.at_risk), (req.id, T.breached)}
    # Monday morning the at-risk mark is settled without a second, outdated email.
    assert sweep(at(30, 9))["notified"] == 1
    assert len(alerts(session)) == 1


def test_waiting_for_the_customer_stops_the_clock(session, file_at, sweep, agent, customer):
    req = file_at()
    claim_request(session, req, actor(agent), at(20, 10))
    ask_customer(session, req, "Which form?", actor(agent), at(20, 11), base_url=URL)
    session.commit()
    sweep(at(30, 10, month=11))
    assert marks(session) == set()
    answer_question(session, req, "The footer form.", actor(customer), at(30, 9), base_url=URL)
    session.commit()
    # 2 h ran before the question; 22 more from Mon 30 Nov 09:00 end on Wed 2 Dec 15:00.
    sweep(at(2, 14, 59, month=12))
    assert marks(session) == set()
    sweep(at(2, 15, month=12))
    assert marks(session) == {(req.id, T.at_risk)}


def test_a_decision_after_the_breach_is_still_recorded_but_nobody_is_told(
    session, file_at, sweep, agent
):
    req = file_at()
    claim_request(session, req, actor(agent), at(20, 10))
    reject_request(
        session, req, RejectReason.other, "Too late, sorry.", actor(agent), at(30, 10),
        base_url=URL,
    )  # fmt: skip
    session.commit()
    counts = sweep(at(30, 11))
    assert marks(session) == {(req.id, T.breached)}  # at risk is a state of open requests
    assert counts["emails"] == 0 and alerts(session) == []
    assert session.scalar(sa.select(SlaEvent.notified_at)) is not None


def test_sql_candidates_agree_with_each_request_clock(session, file_at, sweep, agent, customer):
    """The INSERT … SELECT for never-paused requests marks exactly what the clock computes."""
    filings = [at(d, h) for d, h in ((16, 9), (17, 13), (18, 20), (19, 16), (21, 11), (23, 9))]
    requests = [file_at(when) for when in filings]
    paused = requests[1]
    claim_request(session, paused, actor(agent), at(17, 14))
    ask_customer(session, paused, "Which form?", actor(agent), at(18, 10), base_url=URL)
    answer_question(session, paused, "This one.", actor(customer), at(23, 12), base_url=URL)
    session.commit()
    calendar = load_calendar(session)
    for now in (at(20, 12), at(23, 10), at(24, 16), at(25, 16), at(27, 16), at(30, 12)):
        sweep(now)
        timelines = request_timelines(session, [r.id for r in requests])
        expected = set()
        for request_id, events in timelines.items():
            sla = request_sla(calendar, events, now)
            expected |= {(request_id, T.at_risk)} if sla.is_at_risk(now) else set()
            expected |= {(request_id, T.breached)} if sla.is_breached(now) else set()
        assert marks(session) == expected, now


def test_the_sweep_job_records_its_run(db, session, file_at, manager):
    file_at()
    runner = JobRunner(db.engine, settings={"PUBLIC_BASE_URL": URL}, clock=lambda: at(25, 10))
    run = session.get(JobRun, runner.run("sla_sweep"))
    assert run.outcome is JobOutcome.ok
    assert run.counts == {
        "at_risk": 1,
        "breached": 0,
        "notified": 1,
        "emails": 1,
        "clocks_computed": 0,
    }


def test_paused_clocks_are_computed_at_the_event_and_again_only_after_a_calendar_edit(
    session, file_at, sweep, agent, customer, manager
):
    req = file_at()
    claim_request(session, req, actor(agent), at(20, 10))
    ask_customer(session, req, "Which form?", actor(agent), at(20, 11), base_url=URL)
    answer_question(session, req, "The footer one.", actor(customer), at(23, 9), base_url=URL)
    session.commit()
    clock = stored(session, req.id)
    assert (clock.ran_s, clock.due_at) == (2 * 3600, at(25, 15))  # written with the answer
    assert sweep(at(24, 9))["clocks_computed"] == 0
    assert sweep(at(24, 9, 5))["clocks_computed"] == 0
    # 2 h before the question, 22 h from Monday 09:00: due Wed 25 Nov 15:00, unless...
    add_holiday(session, date(2026, 11, 25), "Offsite", actor(manager), at(24, 9, 10))
    session.commit()
    counts = sweep(at(25, 16))
    assert (counts["clocks_computed"], counts["at_risk"]) == (1, 0)  # ...Wednesday is closed
    assert sweep(at(27, 14, 59))["at_risk"] == 0
    assert sweep(at(27, 15))["at_risk"] == 1


def test_the_clock_keeps_running_while_an_approval_waits_for_a_second_review(
    session, file_at, sweep, agent, manager
):
    from requests_queue.requests.approval import approve_request
    from requests_queue.requests.evidence import CHECKLIST
    from requests_queue.requests.second_review import set_second_review_threshold

    req = file_at()
    set_second_review_threshold(session, 0, actor(manager), at(20, 9))
    claim_request(session, req, actor(agent), at(20, 10))
    checklist = [key for key, _ in CHECKLIST]
    approve_request(session, req, actor(agent), at(23, 10), checklist=checklist, base_url=URL)
    session.commit()
    assert req.state.value == "pending_second_review"
    timeline = request_timelines(session, [req.id])[req.id]
    sla = request_sla(load_calendar(session), timeline, at(24, 17))
    assert not sla.is_paused and sla.is_at_risk(at(24, 17))
    assert sweep(at(24, 17))["at_risk"] == 1  # due Tue 24 Nov 17:00, as if still in review
    assert marks(session) == {(req.id, T.at_risk)}


def test_an_alert_gives_times_in_its_readers_zone(session, file_at, sweep, manager):
    manager.time_zone = "Europe/Berlin"
    session.commit()
    req = file_at()  # Friday 20 November 08:00 in Phoenix (MST) is 16:00 in Berlin (CET)
    sweep(at(25, 9))
    [mail] = alerts(session)
    assert f"R-{req.id:06d}" in mail.body_text
    assert "filed 20 Nov 2026, 16:00 CET" in mail.body_text


def test_an_alert_to_someone_without_a_zone_gives_team_time(session, file_at, sweep, manager):
    file_at()
    sweep(at(25, 9))
    [mail] = alerts(session)
    assert "filed 20 Nov 2026, 08:00 MST" in mail.body_text
