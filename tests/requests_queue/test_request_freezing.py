"""A large filing's selection recorded in the background (issue 11 §1): the POST records the
request and its selection as it stands, a run records the eligible addresses in committed
chunks, and the result is exactly the one-transaction freeze's; the request cannot be
approved before it ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from requests_queue.contacts import ContactData, update_contact
from requests_queue.errors import ValidationError
from requests_queue.mass_actions import Direction, mass_opt_out, preview
from requests_queue.models import (
    ConsentRequest,
    EmailAddress,
    EmailField,
    FreezeState,
    OutboxMessage,
    RequestAddress,
    RequestFreeze,
    RequestState,
)
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.filing import file_request
from requests_queue.requests.freezing import is_freezing, resume_freezes, run_freeze
from requests_queue.requests.lifecycle import claim_request
from requests_queue.requests.targets import OptInTarget, UndoTarget
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of

S = EmailStatus
BOTH = (EmailField.email, EmailField.email2)
LATER = NOW + timedelta(minutes=10)


def _people(make_contact, user, prefix="p"):
    """Six eligible addresses over five contacts (one with two fields), one marketable."""
    slug = user.account.name.lower()
    for i in range(4):
        make_contact(user, first_name=f"{prefix}{i}", email=f"{prefix}{i}@{slug}.example")
    make_contact(user, email=f"{prefix}4@{slug}.example", email2=f"{prefix}5@{slug}.example")
    make_contact(user, email=f"{prefix}ok@{slug}.example", consent=True)


def _file(session, user, target, evidence, inline_max):
    req = file_request(
        session,
        target,
        evidence,
        actor_of(user),
        NOW,
        base_url=REQUEST_BASE_URL,
        inline_max=inline_max,
    )
    session.commit()
    return req


def _frozen(session, req):
    """The request's frozen rows by local part: field, status at filing, prior status."""
    a, ra = EmailAddress, RequestAddress
    return {
        address.split("@")[0]: rest
        for address, *rest in session.execute(
            sa.select(a.address, ra.field, ra.status_at_filing, ra.prior_status)
            .join(a, a.id == ra.address_id)
            .where(ra.request_id == req.id)
        )
    }


def _filed_emails(session, req):
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.kind == "request_filed", OutboxMessage.subject.contains(req.number))
    )


def test_the_run_freezes_exactly_what_the_filing_would_have(
    db, session, customer, make_contact, evidence
):
    _people(make_contact, customer)
    target = OptInTarget(ContactFilter(customer.account_id), BOTH)
    inline = _file(session, customer, target, evidence, inline_max=None)
    req = _file(session, customer, target, evidence, inline_max=5)  # 6 eligible: too many
    # Recorded at the click, nothing frozen yet; the customer told at once, with the count
    # eligible at the click.
    assert is_freezing(session, req) and _frozen(session, req) == {}
    assert _filed_emails(session, req) == 1
    assert (req.state, req.filed_at, req.address_count) == (RequestState.submitted, NOW, 6)

    assert run_freeze(db.engine, req.id, lambda: LATER, chunk=4) is (FreezeState.done)
    session.refresh(req)
    assert not is_freezing(session, req)
    assert _frozen(session, req) == _frozen(session, inline)
    assert set(_frozen(session, req)) == {f"p{i}" for i in range(6)}
    assert req.address_count == inline.address_count == 6
    assert _filed_emails(session, req) == _filed_emails(session, inline) == 1
    freeze = session.get(RequestFreeze, req.id)
    assert (freeze.frozen_count, freeze.finished_at, freeze.percent()) == (6, LATER, 100)
    # The inline filing recorded its freeze too, done in the click.
    assert session.get(RequestFreeze, inline.id).state is FreezeState.done


def _undo_of_everything(session, user, make_contact):
    """Four addresses opted out by one batch; one of them bounced since."""
    slug = user.account.name.lower()
    make_contact(user, email=f"a@{slug}.example", email2=f"b@{slug}.example", consent=True)
    make_contact(user, email=f"c@{slug}.example")
    make_contact(user, email=f"d@{slug}.example")
    flt = ContactFilter(user.account_id)
    n = preview(session, flt, BOTH, Direction.opt_out).changing
    batch = mass_opt_out(session, flt, BOTH, actor_of(user), NOW, n)
    c = session.scalar(sa.select(EmailAddress).where(EmailAddress.address == f"c@{slug}.example"))
    change_status(session, c, S.hard_bounce, Actor(ActorKind.system), NOW)
    session.commit()
    return UndoTarget(user.account_id, batch.id)


def test_an_undo_frozen_in_the_background_matches_its_twin_frozen_inline(
    db, session, customer, other_customer, make_contact, evidence
):
    inline = _file(
        session,
        customer,
        _undo_of_everything(session, customer, make_contact),
        evidence,
        inline_max=None,
    )
    req = _file(
        session,
        other_customer,
        _undo_of_everything(session, other_customer, make_contact),
        evidence,
        inline_max=0,
    )
    assert is_freezing(session, req)
    assert run_freeze(db.engine, req.id, lambda: LATER, chunk=1) is (FreezeState.done)
    session.refresh(req)
    frozen = _frozen(session, req)
    assert frozen == _frozen(session, inline)
    assert frozen == {
        "a": [EmailField.email, S.opted_out_by_user, S.single_opt_in],
        "b": [EmailField.email2, S.opted_out_by_user, S.single_opt_in],
        "d": [EmailField.email, S.opted_out_by_user, S.non_marketable],
    }
    assert req.address_count == inline.address_count == 3


def test_a_run_that_died_is_resumed_and_freezes_nobody_twice(
    db, session, customer, make_contact, evidence
):
    _people(make_contact, customer)
    target = OptInTarget(ContactFilter(customer.account_id), BOTH)
    req = _file(session, customer, target, evidence, inline_max=0)
    run_freeze(db.engine, req.id, lambda: NOW, chunk=4, stop_after_chunks=1)
    freeze = session.get(RequestFreeze, req.id)
    session.refresh(freeze)
    assert freeze.state is FreezeState.freezing and freeze.frozen_count == 4
    assert 0 < freeze.percent() < 100 and len(_frozen(session, req)) == 4
    assert resume_freezes(session, NOW + timedelta(seconds=20)) == []
    resumed = resume_freezes(session, NOW + timedelta(minutes=3))
    assert resumed == [(req.id, FreezeState.done)]
    session.refresh(req)
    rows = session.scalars(
        sa.select(RequestAddress.address_id).where(RequestAddress.request_id == req.id)
    ).all()
    assert len(rows) == len(set(rows)) == 6 == req.address_count
    assert _filed_emails(session, req) == 1


def test_contacts_and_addresses_added_after_the_filing_are_not_frozen(
    db, session, customer, make_contact, evidence
):
    _people(make_contact, customer)
    target = OptInTarget(ContactFilter(customer.account_id), BOTH)
    req = _file(session, customer, target, evidence, inline_max=0)
    make_contact(customer, first_name="late", email="late@acme.example")
    p0 = session.scalar(sa.select(EmailAddress).where(EmailAddress.address == "p0@acme.example"))
    data = ContactData(
        first_name="p0",
        last_name="Person",
        emails={EmailField.email: "p0@acme.example", EmailField.email2: "p0b@acme.example"},
    )
    update_contact(session, p0.contact, data, Actor(ActorKind.customer, customer.id), NOW)
    session.commit()
    assert run_freeze(db.engine, req.id, lambda: LATER, chunk=2) is (FreezeState.done)
    session.refresh(req)
    assert set(_frozen(session, req)) == {f"p{i}" for i in range(6)}
    assert req.address_count == 6


def test_a_request_cannot_be_approved_while_its_selection_is_recorded(
    db, session, customer, agent, make_contact, evidence
):
    _people(make_contact, customer)
    target = OptInTarget(ContactFilter(customer.account_id), BOTH)
    req = _file(session, customer, target, evidence, inline_max=0)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()

    def approve():
        approve_request(
            session,
            req,
            actor_of(agent),
            NOW,
            checklist=[k for k, _ in CHECKLIST],
            base_url=REQUEST_BASE_URL,
        )

    with pytest.raises(ValidationError, match="the selection is still being recorded"):
        approve()
    session.rollback()
    req = session.get(ConsentRequest, req.id)
    assert req.state is RequestState.in_review and req.changed_count == 0
    run_freeze(db.engine, req.id, lambda: LATER)
    session.expire_all()
    approve()
    session.commit()
    assert (req.state, req.changed_count) == (RequestState.approved, 6)


def _stray_rows(session) -> list[tuple]:
    """Frozen rows whose request is missing, or whose address is missing or of another
    account than the request's: what the dropped foreign keys (migration c5e1a9d3b702) would
    have refused, and more."""
    a, ra, r = EmailAddress, RequestAddress, ConsentRequest
    return session.execute(
        sa.select(ra.request_id, ra.address_id)
        .outerjoin(r, r.id == ra.request_id)
        .outerjoin(a, a.id == ra.address_id)
        .where(sa.or_(r.id.is_(None), a.id.is_(None), a.account_id != r.account_id))
    ).all()


def test_every_frozen_row_names_its_request_and_an_address_of_its_account(
    db, session, customer, other_customer, make_contact, evidence
):
    # Two accounts whose address ids interleave, so a chunk's id range spans both.
    for i in range(4):
        for user in (customer, other_customer):
            slug = user.account.name.lower()
            make_contact(user, email=f"i{i}@{slug}.example", email2=f"j{i}@{slug}.example")
    requests = []
    for user, inline_max in ((customer, None), (other_customer, 0)):
        target = OptInTarget(ContactFilter(user.account_id), BOTH)
        requests.append(_file(session, user, target, evidence, inline_max=inline_max))
    assert run_freeze(db.engine, requests[1].id, lambda: LATER, chunk=3) is FreezeState.done
    undo = _file(
        session,
        customer,
        _undo_of_everything(session, customer, make_contact),
        evidence,
        inline_max=0,
    )
    assert run_freeze(db.engine, undo.id, lambda: LATER, chunk=2) is FreezeState.done
    counts = dict(
        session.execute(
            sa.select(RequestAddress.request_id, sa.func.count()).group_by(
                RequestAddress.request_id
            )
        ).all()
    )
    assert counts == {requests[0].id: 8, requests[1].id: 8, undo.id: 11}  # 8 + a, b, d
    assert _stray_rows(session) == []
