"""A mass opt-out applied in the background (issue 11 §1): the customer's click records it, a
run applies it in committed chunks, and the result is exactly the one-transaction version's."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from requests_queue.chunked import LostClaim
from requests_queue.errors import ValidationError
from requests_queue.mass_actions import apply_chunk, mass_opt_out, prior_statuses, record_opt_out
from requests_queue.mass_runs import resume_mass_opt_outs, run_mass_opt_out
from requests_queue.models import (
    EmailAddress,
    EmailField,
    MassAction,
    MassActionState,
    StatusEvent,
)
from requests_queue.requests.targets import UndoTarget
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus, EventChannel

from ..conftest import NOW

S = EmailStatus
BOTH = (EmailField.email, EmailField.email2)
# Per contact: the first address's status (reached through the recipient or the system where
# the customer cannot set it), and whether it has a second address.
PLAN = [
    (S.non_marketable, True),
    (S.single_opt_in, False),
    (S.double_opt_in, True),
    (S.opted_out_by_recipient, False),
    (S.hard_bounce, True),
    (S.single_opt_in, False),
    (S.non_marketable, False),
]
# What a mass opt-out does to each, written out by hand (DOMAIN.md: Mass actions): every
# address that is not already opted out or bounced is opted out by the customer.
EXPECTED = {
    "p0": S.non_marketable,
    "q0": S.non_marketable,
    "p1": S.single_opt_in,
    "p2": S.double_opt_in,
    "q2": S.single_opt_in,
    "p5": S.single_opt_in,
    "p6": S.non_marketable,
    "q4": S.single_opt_in,
}


def _contacts(session, user, make_contact, tag="List"):
    recipient, system = Actor(ActorKind.recipient), Actor(ActorKind.system)
    domain = user.email.split("@")[1]
    for i, (final, second) in enumerate(PLAN):
        c = make_contact(
            user,
            consent=final is not S.non_marketable,
            tags=(tag,),
            email=f"p{i}@{domain}",
            email2=f"q{i}@{domain}" if second else "",
        )
        if final in (S.double_opt_in, S.opted_out_by_recipient):
            change_status(session, c.addresses[0], final, recipient, NOW)
        elif final is S.hard_bounce:
            change_status(session, c.addresses[0], final, system, NOW)
    session.commit()


def _actor(user):
    return Actor(ActorKind.customer, user.id, EventChannel.web)


def _recorded(session, user, count=len(EXPECTED)) -> int:
    batch = record_opt_out(session, ContactFilter(user.account_id), BOTH, _actor(user), NOW, count)
    session.commit()
    return batch.id


def _outcome(session, batch_id):
    """Per address (local part): its status, its events of the batch (from, to, actor, time,
    channel) and the prior status the batch keeps for an undo."""
    a, e, i = EmailAddress, StatusEvent, prior_statuses(batch_id).subquery()
    statuses = dict(
        session.execute(sa.select(a.address, a.status).join(i, i.c.address_id == a.id)).all()
    )
    events = session.execute(
        sa.select(a.address, e.from_status, e.to_status, e.actor_kind, e.created_at, e.channel)
        .join(a, a.id == e.address_id)
        .where(e.mass_action_id == batch_id)
        .order_by(a.address)
    ).all()
    priors = dict(
        session.execute(
            sa.select(a.address, i.c.prior_status).join(a, a.id == i.c.address_id)
        ).all()
    )
    local = lambda address: address.split("@")[0]  # noqa: E731
    return (
        {local(k): v for k, v in statuses.items()},
        [(local(r[0]), *r[1:]) for r in events],
        {local(k): v for k, v in priors.items()},
    )


def test_the_click_records_the_decision_and_changes_nothing(session, customer, make_contact):
    _contacts(session, customer, make_contact)
    batch = session.get(MassAction, _recorded(session, customer))
    assert (batch.state, batch.expected_count, batch.changed_count) == (
        MassActionState.applying,
        len(EXPECTED),
        0,
    )
    assert batch.percent_done == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(StatusEvent).where(
        StatusEvent.mass_action_id == batch.id
    )) == 0  # fmt: skip


def test_the_background_run_in_chunks_gives_what_one_transaction_gives(
    db, session, customer, other_customer, make_contact
):
    _contacts(session, customer, make_contact)
    _contacts(session, other_customer, make_contact)
    at_once = mass_opt_out(
        session,
        ContactFilter(other_customer.account_id),
        BOTH,
        _actor(other_customer),
        NOW,
        len(EXPECTED),
    )
    session.commit()
    batch_id = _recorded(session, customer)
    later = NOW + timedelta(minutes=5)  # the events keep the time of the decision
    state = run_mass_opt_out(db.engine, batch_id, clock=lambda: later, chunk=2)
    assert state is MassActionState.done
    statuses, events, priors = _outcome(session, batch_id)
    assert priors == EXPECTED
    assert statuses == dict.fromkeys(EXPECTED, S.opted_out_by_user)
    assert {e[0]: e[1:] for e in events} == {
        k: (v, S.opted_out_by_user, ActorKind.customer, NOW, EventChannel.web)
        for k, v in EXPECTED.items()
    }
    assert (statuses, events, priors) == _outcome(session, at_once.id)
    batch = session.get(MassAction, batch_id)
    session.refresh(batch)
    assert (batch.changed_count, batch.percent_done, batch.finished_at) == (8, 100, later)


def test_a_run_that_died_is_resumed_where_it_stopped_and_changes_nothing_twice(
    db, session, customer, make_contact
):
    _contacts(session, customer, make_contact)
    batch_id = _recorded(session, customer)
    run_mass_opt_out(db.engine, batch_id, lambda: NOW, chunk=2, stop_after_chunks=1)
    batch = session.get(MassAction, batch_id)
    session.refresh(batch)
    assert batch.state is MassActionState.applying and 0 < batch.changed_count < 8
    assert 0 < batch.percent_done < 100
    # While its heartbeat is fresh, nobody else takes it over …
    assert resume_mass_opt_outs(session, NOW + timedelta(seconds=20)) == []
    # … once it has gone quiet, the scheduler's job finishes it.
    assert resume_mass_opt_outs(session, NOW + timedelta(minutes=3)) == [
        (batch_id, MassActionState.done)
    ]
    statuses, events, priors = _outcome(session, batch_id)
    assert priors == EXPECTED and len(events) == len(EXPECTED)


def test_a_run_asked_to_stop_hands_its_batch_back_after_the_chunk(
    db, session, customer, make_contact
):
    _contacts(session, customer, make_contact)
    batch_id = _recorded(session, customer)
    at = NOW + timedelta(seconds=40)  # the scheduler's SIGTERM, a while after the click
    asked = []

    def should_stop():
        asked.append(True)
        return True

    state = run_mass_opt_out(db.engine, batch_id, lambda: at, chunk=2, should_stop=should_stop)
    assert state is MassActionState.applying and len(asked) == 1  # after the first chunk
    batch = session.get(MassAction, batch_id)
    session.refresh(batch)
    assert 0 < batch.changed_count < 8
    # A job told to stop starts nothing; the next one takes the batch at once: a run that
    # merely died would still look alive at `at`, its last beat just now.
    assert resume_mass_opt_outs(session, at, should_stop=lambda: True) == []
    assert resume_mass_opt_outs(session, at) == [(batch_id, MassActionState.done)]
    statuses, events, priors = _outcome(session, batch_id)
    assert priors == EXPECTED and len(events) == len(EXPECTED)


def test_the_resume_job_of_a_stopping_scheduler_starts_no_run(db, session, customer, make_contact):
    from requests_queue.jobs.mass_actions import resume_mass_actions
    from requests_queue.jobs.runner import JobContext
    from requests_queue.jobs.schedule import job_named

    _contacts(session, customer, make_contact)
    batch_id = _recorded(session, customer)  # left for the job: no run ever took it
    stopping = threading.Event()
    stopping.set()
    job = job_named("resume_mass_actions")
    ctx = JobContext(session, NOW + timedelta(minutes=3), job, {}, stopping)
    assert resume_mass_actions(ctx) == {"resumed": 0}
    stopping.clear()
    assert resume_mass_actions(ctx) == {"resumed": 1, "done": 1}
    assert session.get(MassAction, batch_id).state is MassActionState.done


def test_contacts_added_after_the_click_are_left_alone(db, session, customer, make_contact):
    _contacts(session, customer, make_contact)
    batch_id = _recorded(session, customer)
    late = make_contact(customer, consent=True, tags=("List",), email="late@acme.example")
    assert run_mass_opt_out(db.engine, batch_id, lambda: NOW) is MassActionState.done
    session.refresh(late.addresses[0])
    assert late.addresses[0].status is S.single_opt_in
    assert session.get(MassAction, batch_id).changed_count == len(EXPECTED)


def test_a_run_that_lost_its_claim_writes_nothing_more(db, session, customer, make_contact):
    _contacts(session, customer, make_contact)
    batch_id = _recorded(session, customer)
    run_mass_opt_out(db.engine, batch_id, lambda: NOW, chunk=2, stop_after_chunks=1)
    old_beat = session.get(MassAction, batch_id).heartbeat_at
    # Another run takes it over (the first was silent too long) and writes a chunk …
    later = NOW + timedelta(minutes=3)
    run_mass_opt_out(db.engine, batch_id, lambda: later, chunk=2, stop_after_chunks=1)
    # … then the first one wakes up, still holding the heartbeat it wrote last.
    with Session(db.engine) as old_run:
        batch = old_run.get(MassAction, batch_id)
        set_committed_value(batch, "heartbeat_at", old_beat)
        with pytest.raises(LostClaim):
            apply_chunk(old_run, batch, later + timedelta(seconds=1), limit=2)
        old_run.rollback()
    # The second run's heartbeat is fresh: nobody else takes the batch until it goes quiet.
    assert run_mass_opt_out(db.engine, batch_id, lambda: later) is None
    done = run_mass_opt_out(db.engine, batch_id, lambda: later + timedelta(minutes=3))
    assert done is MassActionState.done
    statuses, events, priors = _outcome(session, batch_id)
    assert priors == EXPECTED and len(events) == len(EXPECTED)


def test_a_run_that_fails_says_so_and_keeps_what_it_applied(db, session, customer, make_contact):
    _contacts(session, customer, make_contact)
    batch_id = _recorded(session, customer)
    run_mass_opt_out(db.engine, batch_id, lambda: NOW, chunk=2, stop_after_chunks=1)
    # The stored selection names a field that does not exist (a damaged row): the next
    # chunk cannot read it.
    session.execute(sa.update(MassAction).where(MassAction.id == batch_id).values(fields="fax"))
    session.commit()
    later = NOW + timedelta(minutes=3)
    assert run_mass_opt_out(db.engine, batch_id, lambda: later, chunk=2) is MassActionState.failed
    batch = session.get(MassAction, batch_id)
    session.refresh(batch)
    assert "internal error" in batch.error and 0 < batch.changed_count < len(EXPECTED)
    assert batch.finished_at is None
    # Nothing resumes a failed batch, and its applied part can be undone.
    assert resume_mass_opt_outs(session, later + timedelta(minutes=5)) == []
    UndoTarget(customer.account_id, batch_id).check(session)


def test_no_undo_and_no_second_mass_opt_out_while_one_applies(session, customer, make_contact):
    _contacts(session, customer, make_contact)
    batch_id = _recorded(session, customer)
    with pytest.raises(ValidationError, match="still being applied"):
        UndoTarget(customer.account_id, batch_id).check(session)
    with pytest.raises(ValidationError, match=f"#{batch_id} is still being applied"):
        _recorded(session, customer)
    session.rollback()


def test_a_changed_selection_records_nothing(session, customer, make_contact):
    _contacts(session, customer, make_contact)
    with pytest.raises(ValidationError, match="type 8"):
        _recorded(session, customer, count=7)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(MassAction)) == 0


@pytest.mark.postgres_only
def test_two_runs_at_once_apply_the_batch_once(db, session, customer, make_contact):
    _contacts(session, customer, make_contact)
    batch_id = _recorded(session, customer)
    results: list = []
    start, engine = threading.Barrier(2), db.engine

    def run():
        start.wait()
        results.append(run_mass_opt_out(engine, batch_id, chunk=1))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results, key=str) == sorted([MassActionState.done, None], key=str)
    statuses, events, priors = _outcome(session, batch_id)
    assert priors == EXPECTED and len(events) == len(EXPECTED)


def test_several_chunks_in_one_transaction_hold_their_claim(session, customer, make_contact):
    """The one-transaction version (demo data, tests) runs every chunk without a commit."""
    _contacts(session, customer, make_contact)
    batch = session.get(MassAction, _recorded(session, customer))
    done = [apply_chunk(session, batch, NOW, limit=2) for _ in range(4)]
    assert done == [False, False, False, True]
    session.commit()
    statuses, events, priors = _outcome(session, batch.id)
    assert priors == EXPECTED and len(events) == len(EXPECTED)
