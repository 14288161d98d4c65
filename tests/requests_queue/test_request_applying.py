"""A large approval applied in the background (issue 11 §1): the agent's click decides (the
SLA counts it then), a run applies the frozen addresses in committed chunks, and the result,
the email and the webhook are exactly the one-transaction approval's."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from requests_queue.models import (
    AddressOutcome,
    ApplyState,
    EmailAddress,
    OutboxMessage,
    RequestAddress,
    RequestApplication,
    RequestState,
    StatusEvent,
)
from requests_queue.requests.applying import is_applying, resume_approvals, run_approval
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.lifecycle import claim_request
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of

S = EmailStatus
ALL_CHECKED = [k for k, _ in CHECKLIST]
LATER = NOW + timedelta(minutes=10)


def _claimed(session, customer, agent, file_opt_in, prefix="p"):
    req = file_opt_in(customer, n=5, prefix=prefix)
    claim_request(session, req, actor_of(agent), NOW)
    # One address stopped being eligible since filing: the approval skips it.
    first = session.scalar(
        sa.select(EmailAddress).where(EmailAddress.address == f"{prefix}0@acme.example")
    )
    change_status(session, first, S.hard_bounce, Actor(ActorKind.system), NOW)
    session.commit()
    return req


def _approve(session, req, agent, inline_max):
    approve_request(
        session,
        req,
        actor_of(agent),
        NOW,
        checklist=ALL_CHECKED,
        base_url=REQUEST_BASE_URL,
        inline_max=inline_max,
    )
    session.commit()


def _result(session, req):
    """Per address (local part): outcome, skip reason, and its events of the request."""
    a, ra, e = EmailAddress, RequestAddress, StatusEvent
    outcomes = {
        address.split("@")[0]: (outcome, reason)
        for address, outcome, reason in session.execute(
            sa.select(a.address, ra.outcome, ra.skip_reason)
            .join(a, a.id == ra.address_id)
            .where(ra.request_id == req.id)
        )
    }
    events = sorted(
        (address.split("@")[0], *rest)
        for address, *rest in session.execute(
            sa.select(a.address, e.from_status, e.to_status, e.actor_user_id, e.created_at)
            .join(a, a.id == e.address_id)
            .where(e.request_id == req.id)
        )
    )
    return outcomes, events


def _decision_emails(session, req):
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.subject.contains(req.number), OutboxMessage.subject.contains("pprov"))
    )


def test_the_click_decides_and_the_run_applies_what_one_transaction_would(
    db, session, customer, agent, file_opt_in
):
    inline = _claimed(session, customer, agent, file_opt_in, prefix="p")
    _approve(session, inline, agent, inline_max=None)
    req = _claimed(session, customer, agent, file_opt_in, prefix="q")
    _approve(session, req, agent, inline_max=2)  # 5 addresses: too many to apply inline
    session.refresh(req)
    # Decided at the click (the SLA's clock stops then), nothing applied, nobody told yet.
    assert (req.state, req.decided_at, req.decided_by_id) == (RequestState.approved, NOW, agent.id)
    assert is_applying(session, req) and req.changed_count == 0
    assert _result(session, req) == ({f"q{i}": (None, None) for i in range(5)}, [])
    assert _decision_emails(session, req) == 0

    assert run_approval(db.engine, req.id, REQUEST_BASE_URL, lambda: LATER, chunk=2) is (
        ApplyState.done
    )
    session.refresh(req)
    assert not is_applying(session, req)
    assert (req.changed_count, req.skipped_count) == (4, 1)
    assert req.skipped_by_reason == (inline.skipped_by_reason)
    outcomes, events = _result(session, req)
    assert outcomes == {
        "q0": (AddressOutcome.skipped, "Hard bounce"),
        **{f"q{i}": (AddressOutcome.changed, None) for i in range(1, 5)},
    }
    # Every event carries the agent and the decision's time, as the inline approval's do.
    assert events == [
        (f"q{i}", S.non_marketable, S.single_opt_in, agent.id, NOW) for i in (1, 2, 3, 4)
    ]
    expected = _result(session, inline)
    assert {k[1:]: v for k, v in outcomes.items()} == {k[1:]: v for k, v in expected[0].items()}
    assert [e[1:] for e in events] == [e[1:] for e in expected[1]]
    assert _decision_emails(session, req) == _decision_emails(session, inline) == 1
    application = session.get(RequestApplication, req.id)
    assert (application.processed_count, application.finished_at) == (5, LATER)


def test_a_run_that_died_is_resumed_and_changes_nothing_twice(
    db, session, customer, agent, file_opt_in
):
    req = _claimed(session, customer, agent, file_opt_in)
    _approve(session, req, agent, inline_max=0)
    run_approval(db.engine, req.id, REQUEST_BASE_URL, lambda: NOW, chunk=2, stop_after_chunks=1)
    application = session.get(RequestApplication, req.id)
    session.refresh(application)
    assert application.state is ApplyState.applying and application.processed_count == 2
    assert 0 < application.percent_of(5) < 100
    assert resume_approvals(session, NOW + timedelta(seconds=20), REQUEST_BASE_URL) == []
    resumed = resume_approvals(session, NOW + timedelta(minutes=3), REQUEST_BASE_URL)
    assert resumed == [(req.id, ApplyState.done)]
    outcomes, events = _result(session, req)
    assert len(events) == 4 and len({e[0] for e in events}) == 4
    assert _decision_emails(session, req) == 1


def test_a_small_approval_is_applied_in_the_click(session, customer, agent, file_opt_in):
    req = _claimed(session, customer, agent, file_opt_in)
    _approve(session, req, agent, inline_max=5)
    session.refresh(req)
    assert not is_applying(session, req) and (req.changed_count, req.skipped_count) == (4, 1)
    assert session.get(RequestApplication, req.id).state is ApplyState.done
