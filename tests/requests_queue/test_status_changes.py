"""Single and set-based status writes: rules enforced, events appended, one transaction."""

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.errors import InvalidTransition, ValidationError
from requests_queue.mass_actions import mass_opt_out
from requests_queue.models import EmailAddress, EmailField, StatusEvent
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import change_many, change_status
from requests_queue.statuses import Actor, ActorKind, Cause, EmailStatus

from ..conftest import NOW

S = EmailStatus


def test_change_status_appends_an_event_with_actor_and_cause(session, customer, make_contact):
    c = make_contact(customer, email="a@acme.example", consent=True)
    event = change_status(
        session,
        c.addresses[0],
        S.opted_out_by_recipient,
        Actor(ActorKind.recipient),
        NOW,
        Cause(campaign_id=9),
        note="ip 1.2.3.4",
    )
    session.commit()
    history = session.scalars(
        sa.select(StatusEvent)
        .where(StatusEvent.address_id == c.addresses[0].id)
        .order_by(StatusEvent.id)
    ).all()
    assert [(e.from_status, e.to_status) for e in history] == [
        (None, S.single_opt_in),
        (S.single_opt_in, S.opted_out_by_recipient),
    ]
    assert event.campaign_id == 9 and event.note == "ip 1.2.3.4"


def test_a_refused_change_writes_no_event_and_keeps_the_status(session, customer, make_contact):
    c = make_contact(customer, email="a@acme.example")
    change_status(session, c.addresses[0], S.hard_bounce, Actor(ActorKind.system), NOW)
    session.commit()
    with pytest.raises(InvalidTransition, match="final"):
        change_status(
            session,
            c.addresses[0],
            S.opted_out_by_user,
            Actor(ActorKind.customer, customer.id),
            NOW,
        )
    session.rollback()
    assert c.addresses[0].status is S.hard_bounce
    assert session.scalar(sa.select(sa.func.count()).select_from(StatusEvent)) == 2


def test_change_many_skips_what_the_rules_forbid(session, customer, make_contact):
    a = make_contact(customer, email="a@acme.example").addresses[0]
    b = make_contact(customer, email="b@acme.example", consent=True).addresses[0]
    change_status(session, b, S.hard_bounce, Actor(ActorKind.system), NOW)
    moved = change_many(
        session,
        customer.account_id,
        sa.select(EmailAddress.id),
        S.invalid,
        Actor(ActorKind.system),
        NOW,
    )
    session.commit()
    assert moved == 1
    session.refresh(a), session.refresh(b)
    assert (a.status, b.status) == (S.invalid, S.hard_bounce)
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(StatusEvent)
            .where(StatusEvent.to_status == S.invalid)
        )
        == 1
    )


def test_change_many_without_a_request_is_refused_for_support(session, customer, make_contact):
    make_contact(customer, email="a@acme.example")
    with pytest.raises(InvalidTransition):
        change_many(
            session,
            customer.account_id,
            sa.select(EmailAddress.id),
            S.single_opt_in,
            Actor(ActorKind.agent, 5),
            NOW,
        )


@pytest.mark.postgres_only
def test_unsubscribe_during_a_mass_opt_out_is_never_overwritten(app, db, customer, make_contact):
    """A recipient's opt-out racing a mass opt-out: whichever commits first, it survives."""
    for i in range(200):
        make_contact(customer, email=f"r{i}@acme.example", consent=True)
    target = db.session.scalar(
        sa.select(EmailAddress.id).where(EmailAddress.address == "r100@acme.example")
    )
    account_id, user_id = customer.account_id, customer.id
    barrier = threading.Barrier(2)
    errors = []

    def opt_out_all():
        with Session(engine) as s:
            try:
                barrier.wait()
                mass_opt_out(
                    s,
                    ContactFilter(account_id),
                    (EmailField.email,),
                    Actor(ActorKind.customer, user_id),
                    NOW,
                    200,
                )
                s.commit()
            except Exception as exc:  # the count may no longer match: that is a valid outcome
                errors.append(exc)

    def unsubscribe():
        with Session(engine) as s:
            barrier.wait()
            try:
                change_status(
                    s,
                    s.get(EmailAddress, target),
                    S.opted_out_by_recipient,
                    Actor(ActorKind.recipient),
                    NOW,
                )
                s.commit()
            except Exception as exc:
                errors.append(exc)

    engine = db.engine
    threads = [threading.Thread(target=opt_out_all), threading.Thread(target=unsubscribe)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert all(isinstance(e, ValidationError) for e in errors), errors
    db.session.expire_all()
    final = db.session.get(EmailAddress, target)
    events = db.session.scalars(
        sa.select(StatusEvent).where(StatusEvent.address_id == target).order_by(StatusEvent.id)
    ).all()
    # The history explains the final status step by step, whatever the interleaving.
    chain = [e.from_status for e in events[1:]]
    assert chain == [e.to_status for e in events[:-1]]
    assert events[-1].to_status is final.status
    assert S.opted_out_by_recipient in [e.to_status for e in events]


def test_the_account_lock_keeps_a_second_writer_out_until_the_first_ends(db, customer):
    """Whoever reads after lock_account sees nothing change under it: on SQLite too, where the
    lock is the database's single write lock, taken at once instead of at the first write."""
    from requests_queue.status_changes import lock_account

    first, second = Session(db.engine), Session(db.engine)
    try:
        lock_account(first, customer.account_id)
        conn = second.connection()
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET lock_timeout = '200ms'")
        else:
            conn.exec_driver_sql("PRAGMA busy_timeout = 200")
        with pytest.raises(sa.exc.OperationalError):
            lock_account(second, customer.account_id)
        second.rollback()
        first.commit()
        lock_account(second, customer.account_id)  # free again once the first has ended
        second.commit()
    finally:
        first.close()
        second.close()
