"""Specs for requests left waiting for the customer: one reminder at 5 business days, closed
at 10, never both at once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from requests_queue.calendar_store import load_calendar
from requests_queue.jobs.runner import JobRunner
from requests_queue.models import (
    JobOutcome,
    JobRun,
    OutboxMessage,
    RequestEvent,
    RequestEventKind,
    RequestState,
)
from requests_queue.requests.lifecycle import answer_question, ask_customer, claim_request
from requests_queue.sla.unanswered import remind_and_close_unanswered
from requests_queue.statuses import Actor, ActorKind

PHX = ZoneInfo("America/Phoenix")
URL = "http://desk.example"
# Asked Mon 23 Nov 10:00; 5 business days later (Thanksgiving off) is Tue 1 Dec 10:00,
# and 5 more after that reminder is Tue 8 Dec 10:00.
REMIND = datetime(2026, 12, 1, 10, 0, tzinfo=PHX)
CLOSE = datetime(2026, 12, 8, 10, 0, tzinfo=PHX)


def at(month: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, month, d, hh, mm, tzinfo=PHX)


def actor(user) -> Actor:
    return Actor(ActorKind(user.role.value), user.id)


@pytest.fixture
def waiting(session, file_opt_in, customer, agent):
    """A request support asked about on Monday 23 November, 10:00."""
    req = file_opt_in(customer, n=1)
    claim_request(session, req, actor(agent), at(11, 20, 10))
    ask_customer(session, req, "Which form?", actor(agent), at(11, 23, 10), base_url=URL)
    session.commit()
    return req


@pytest.fixture
def run(session):
    def sweep(now: datetime) -> dict[str, int]:
        counts = remind_and_close_unanswered(session, load_calendar(session), now, base_url=URL)
        session.commit()
        return counts

    return sweep


def kinds(session, req) -> list[RequestEventKind]:
    return list(
        session.scalars(
            sa.select(RequestEvent.kind)
            .where(RequestEvent.request_id == req.id)
            .order_by(RequestEvent.id)
        )
    )


def mails(session, kind: str) -> list[OutboxMessage]:
    return list(session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == kind)))


def test_reminds_once_after_five_business_days(session, waiting, run, customer):
    assert run(at(12, 1, 9, 59)) == {"reminded": 0, "closed": 0, "skipped": 0}
    assert run(REMIND)["reminded"] == 1
    assert run(at(12, 1, 16))["reminded"] == 0
    assert kinds(session, waiting)[-1] is RequestEventKind.warned
    [mail] = mails(session, "request_reminder")
    assert mail.to_address == customer.email


def test_closes_after_ten_business_days(session, waiting, run, customer):
    run(REMIND)
    assert run(at(12, 8, 9, 59))["closed"] == 0
    assert run(CLOSE) == {"reminded": 0, "closed": 1, "skipped": 0}
    session.refresh(waiting)
    assert waiting.state is RequestState.closed_no_response
    assert [m.to_address for m in mails(session, "request_closed_no_response")] == [customer.email]
    assert run(at(12, 9, 10)) == {"reminded": 0, "closed": 0, "skipped": 0}


def test_after_downtime_the_reminder_still_comes_five_business_days_before_closing(
    session, waiting, run
):
    late = at(12, 10, 12)  # the scheduler was down through both thresholds
    assert run(late) == {"reminded": 1, "closed": 0, "skipped": 0}
    assert run(late)["closed"] == 0
    assert run(at(12, 17, 11, 59))["closed"] == 0
    assert run(at(12, 17, 12))["closed"] == 1


def test_an_answer_stops_the_countdown_and_a_new_question_restarts_it(
    session, waiting, run, customer, agent
):
    run(REMIND)
    answer_question(
        session, waiting, "The footer form.", actor(customer), at(12, 2, 9), base_url=URL
    )
    session.commit()
    assert run(CLOSE)["closed"] == 0
    ask_customer(session, waiting, "And the date?", actor(agent), at(12, 2, 10), base_url=URL)
    session.commit()
    assert run(CLOSE)["reminded"] == 0  # only 4 business days since the new question
    assert run(at(12, 9, 10))["reminded"] == 1


def test_the_job_records_its_run(db, session, waiting):
    runner = JobRunner(db.engine, settings={"PUBLIC_BASE_URL": URL}, clock=lambda: REMIND)
    run = session.get(JobRun, runner.run("unanswered_requests"))
    assert (run.outcome, run.counts) == (JobOutcome.ok, {"reminded": 1, "closed": 0, "skipped": 0})
