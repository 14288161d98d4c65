"""A request's eligibility kept up to date instead of counted whole on every page (issue 11
§1): whatever status changes happen after the freeze, the kept count plus the changes since
equals a whole count made at that moment (`targets.eligibility_now`, the independent oracle),
before and after the job moves the kept count forward."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.errors import InvalidTransition
from requests_queue.mass_actions import Direction, mass_opt_out, preview
from requests_queue.models import (
    ConsentRequest,
    EmailAddress,
    EmailField,
    FreezeState,
    MassAction,
    RequestFreeze,
)
from requests_queue.requests import kept_eligibility
from requests_queue.requests.filing import file_request
from requests_queue.requests.freezing import run_freeze
from requests_queue.requests.targets import OptInTarget, UndoTarget, eligibility_now
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus, Offer, skip_reasons
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of

S = EmailStatus
BOTH = (EmailField.email, EmailField.email2)
# Who may change one address by hand, each as the rule book lets them (the rest is refused).
ACTORS = (ActorKind.customer, ActorKind.recipient, ActorKind.system)


def _contacts(make_contact, user, n=12):
    slug = user.account.name.lower()
    for i in range(n):
        make_contact(user, email=f"a{i}@{slug}.example", email2=f"b{i}@{slug}.example")


def _filed(session, user, target, evidence):
    """File and freeze in the background (in two chunks), as a large request is."""
    req = file_request(
        session, target, evidence, actor_of(user), NOW, base_url=REQUEST_BASE_URL, inline_max=1
    )
    session.commit()
    run_freeze(session.get_bind(), req.id, lambda: NOW, chunk=7)
    session.expire_all()
    return session.get(ConsentRequest, req.id)


def _addresses(session, user):
    return session.scalars(
        sa.select(EmailAddress)
        .where(EmailAddress.account_id == user.account_id)
        .order_by(EmailAddress.id)
    ).all()


def _walk(session, user, rng: random.Random, steps: int) -> int:
    """Random status changes of the account's addresses, by hand and by mass opt-outs of
    random halves; how many happened."""
    done = 0
    addresses = _addresses(session, user)
    for _ in range(steps):
        if rng.random() < 0.15:
            flt = ContactFilter(user.account_id, search=rng.choice(["a", "b", "1", "2"]))
            fields = rng.choice([BOTH, (EmailField.email,), (EmailField.email2,)])
            n = preview(session, flt, fields, Direction.opt_out).changing
            if n:
                mass_opt_out(session, flt, fields, actor_of(user), NOW, n)
                done += 1
        else:
            for _ in range(20):  # most random moves are refused: try until one is allowed
                address = rng.choice(addresses)
                kind = rng.choice(ACTORS)
                actor = actor_of(user) if kind is ActorKind.customer else Actor(kind)
                try:
                    change_status(session, address, rng.choice(list(S)), actor, NOW)
                    done += 1
                    break
                except InvalidTransition:
                    pass
        session.commit()
    return done


def _freeze(session, req) -> RequestFreeze:
    session.expire_all()
    return session.get(RequestFreeze, req.id)


def _check(session, req):
    assert kept_eligibility.eligibility(session, req) == eligibility_now(session, req)
    _check_batches(session, req.account_id)


def _check_batches(session, account_id):
    """Every mass opt-out of the account: what its undo would restore, kept plus changes
    since, equals the count made from scratch; each kept its count when its run ended."""
    session.expire_all()
    batches = session.scalars(sa.select(MassAction).where(MassAction.account_id == account_id))
    for batch in batches:
        assert batch.eligibility is not None
        target = UndoTarget(account_id, batch.id)
        assert target.summary(session) == target.whole(session)


@pytest.mark.parametrize("seed", range(4))
def test_an_opt_in_requests_kept_count_follows_every_change(
    db, session, customer, make_contact, evidence, seed
):
    rng = random.Random(seed)
    _contacts(make_contact, customer)
    req = _filed(session, customer, OptInTarget(ContactFilter(customer.account_id), BOTH), evidence)
    kept = _freeze(session, req)
    assert kept.eligibility == [[None, 24]]  # kept by the freeze's last chunk
    _check(session, req)
    for _ in range(5):
        _walk(session, customer, rng, 8)
        through = _freeze(session, req).eligibility_through
        _check(session, req)  # the page adds the changes itself ...
        assert _freeze(session, req).eligibility_through == through  # ... and keeps nothing
        if rng.random() < 0.5:
            assert kept_eligibility.refresh_open(session) >= 1  # and the batches' counts
            assert _freeze(session, req).eligibility_through > through
            _check(session, req)
    assert eligibility_now(session, req).eligible < 24  # the walk did change something


@pytest.mark.parametrize("seed", range(4))
def test_an_undos_kept_count_follows_every_change_and_later_batches(
    db, session, customer, make_contact, evidence, seed
):
    rng = random.Random(seed)
    _contacts(make_contact, customer)
    flt = ContactFilter(customer.account_id)
    n = preview(session, flt, BOTH, Direction.opt_out).changing
    batch = mass_opt_out(session, flt, BOTH, actor_of(customer), NOW, n)
    session.commit()
    req = _filed(session, customer, UndoTarget(customer.account_id, batch.id), evidence)
    _check(session, req)
    reasons = set()
    for _ in range(5):
        _walk(session, customer, rng, 10)
        _check(session, req)
        reasons |= set(eligibility_now(session, req).skipped_by_reason)
        if rng.random() < 0.5:
            kept_eligibility.refresh_open(session)
            _check(session, req)
    assert reasons  # some addresses stopped being restorable


def test_a_page_counts_whole_when_too_much_changed_since(
    db, session, customer, make_contact, evidence, monkeypatch
):
    _contacts(make_contact, customer, n=4)
    req = _filed(session, customer, OptInTarget(ContactFilter(customer.account_id), BOTH), evidence)
    monkeypatch.setattr(kept_eligibility, "CHANGES_MAX", 1)
    for address in _addresses(session, customer)[:3]:
        change_status(session, address, S.opted_out_by_recipient, Actor(ActorKind.recipient), NOW)
    session.commit()
    assert kept_eligibility.eligibility(session, req).eligible == 5
    kept_eligibility.refresh_open(session)  # the job counts it whole and keeps that
    assert dict(_freeze(session, req).eligibility)[None] == 5
    _check(session, req)


def test_a_request_frozen_before_counts_were_kept_is_counted_whole_until_the_job_runs(
    db, session, customer, make_contact, evidence
):
    _contacts(make_contact, customer, n=3)
    req = _filed(session, customer, OptInTarget(ContactFilter(customer.account_id), BOTH), evidence)
    freeze = _freeze(session, req)
    freeze.eligibility = freeze.eligibility_through = None  # as the migration leaves it
    address = _addresses(session, customer)[0]
    change_status(session, address, S.hard_bounce, Actor(ActorKind.system), NOW)
    session.commit()
    assert kept_eligibility.eligibility(session, req).skipped_by_reason == {"Hard bounce": 1}
    assert kept_eligibility.refresh_open(session) == 1
    assert dict(_freeze(session, req).eligibility) == {None: 5, "Hard bounce": 1}
    assert kept_eligibility.refresh_open(session) == 0  # nothing new since


@pytest.mark.postgres_only
def test_the_job_waits_for_a_status_change_in_flight_so_none_is_lost(
    db, session, customer, other_customer, make_contact, evidence
):
    """An unsubscribe of one of the request's addresses is written but not committed; a later
    event of another account commits first (a higher id). Keeping the count then, without
    waiting, would put the watermark past the unsubscribe and lose it for good."""
    _contacts(make_contact, customer, n=3)
    _contacts(make_contact, other_customer, n=1)
    req = _filed(session, customer, OptInTarget(ContactFilter(customer.account_id), BOTH), evidence)
    mine, theirs = _addresses(session, customer)[0].id, _addresses(session, other_customer)[0].id
    engine = db.engine
    writer = Session(engine)
    try:
        change_status(
            writer,
            writer.get(EmailAddress, mine),
            S.opted_out_by_recipient,
            Actor(ActorKind.recipient),
            NOW,
        )
        writer.flush()  # in flight: its event has its id, not yet committed
        with Session(db.engine) as other:
            change_status(
                other, other.get(EmailAddress, theirs), S.hard_bounce, Actor(ActorKind.system), NOW
            )
            other.commit()

        def job():
            with Session(engine) as s:
                kept_eligibility.refresh_open(s)

        runner = threading.Thread(target=job)
        runner.start()
        time.sleep(0.5)
        assert runner.is_alive()  # waiting for the account's lock
        writer.commit()
        runner.join(10)
        assert not runner.is_alive()
    finally:
        writer.close()
    session.expire_all()
    unsubscribed = skip_reasons(Offer.mass_opt_in)[S.opted_out_by_recipient]
    assert dict(_freeze(session, req).eligibility) == {None: 5, unsubscribed: 1}
    _check(session, req)


def test_the_scheduled_job_moves_the_kept_count_and_records_how_many(
    db, session, customer, make_contact, evidence
):
    from requests_queue.jobs.runner import JobRunner
    from requests_queue.jobs.schedule import SCHEDULE
    from requests_queue.models import JobRun

    _contacts(make_contact, customer, n=2)
    req = _filed(session, customer, OptInTarget(ContactFilter(customer.account_id), BOTH), evidence)
    address = _addresses(session, customer)[0]
    change_status(session, address, S.invalid, Actor(ActorKind.system), NOW)
    session.commit()
    runner = JobRunner(db.engine, schedule=SCHEDULE, clock=lambda: NOW)
    run = session.get(JobRun, runner.run("keep_eligibility"))
    assert run.counts == {"moved": 1}
    assert dict(_freeze(session, req).eligibility) == {None: 3, "Invalid address": 1}


def test_a_batch_run_before_counts_were_kept_is_counted_whole_until_the_job_keeps_it(
    db, session, customer, make_contact
):
    _contacts(make_contact, customer, n=3)
    flt = ContactFilter(customer.account_id)
    n = preview(session, flt, BOTH, Direction.opt_out).changing
    batch = mass_opt_out(session, flt, BOTH, actor_of(customer), NOW, n)
    assert dict(batch.eligibility) == {None: 6}  # kept when its run ended
    batch.eligibility = batch.eligibility_through = None  # as the migration leaves it
    address = _addresses(session, customer)[0]
    change_status(session, address, S.opted_out_by_recipient, Actor(ActorKind.recipient), NOW)
    session.commit()
    target = UndoTarget(customer.account_id, batch.id)
    assert target.summary(session).eligible == 5
    assert kept_eligibility.refresh_open(session) == 1
    session.expire_all()
    kept = dict(session.get(MassAction, batch.id).eligibility)
    assert kept[None] == 5 and sum(kept.values()) == 6
    assert kept_eligibility.refresh_open(session) == 0  # nothing new since


@pytest.mark.parametrize("change_between_chunks", [False, True])
def test_the_count_kept_at_the_freezes_end_matches_a_whole_count(
    db, session, customer, make_contact, evidence, change_between_chunks
):
    """The freeze's end keeps `frozen` as the count without counting when nothing of the
    account changed since its first chunk; a change after an address was recorded (it was
    eligible then, it is not now) must not be missed."""
    _contacts(make_contact, customer)
    target = OptInTarget(ContactFilter(customer.account_id), BOTH)
    req = file_request(
        session, target, evidence, actor_of(customer), NOW, base_url=REQUEST_BASE_URL,
        inline_max=1,
    )  # fmt: skip
    session.commit()
    run_freeze(session.get_bind(), req.id, lambda: NOW, chunk=7, stop_after_chunks=1)
    if change_between_chunks:
        first = _addresses(session, customer)[0]  # recorded by the first chunk
        change_status(session, first, S.opted_out_by_user, actor_of(customer), NOW)
        session.commit()
    later = NOW + timedelta(minutes=3)  # the first run's beat has gone stale: taken over
    assert run_freeze(session.get_bind(), req.id, lambda: later, chunk=7) is FreezeState.done
    kept = _freeze(session, req)
    opted_out = skip_reasons(Offer.mass_opt_in)[S.opted_out_by_user]
    wanted = [[None, 23], [opted_out, 1]] if change_between_chunks else [[None, 24]]
    assert sorted(kept.eligibility, key=str) == sorted(wanted, key=str)
    assert kept_eligibility.eligibility(session, req) == eligibility_now(session, req)
