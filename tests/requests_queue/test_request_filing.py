"""Filing requests: evidence checked, the exact eligible addresses frozen, undo of own batches."""

from dataclasses import replace

import pytest
import sqlalchemy as sa

from requests_queue.errors import NotFound, ValidationError
from requests_queue.mass_actions import Direction, mass_opt_out, preview
from requests_queue.models import (
    ConsentRequest,
    EmailAddress,
    EmailField,
    MassAction,
    OutboxMessage,
    RequestAddress,
    RequestKind,
    RequestState,
    Tag,
)
from requests_queue.requests.filing import file_request
from requests_queue.requests.state_machine import NotAllowed
from requests_queue.requests.targets import OptInTarget, UndoTarget
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of

S = EmailStatus
EMAIL = (EmailField.email,)


def _file(session, target, evidence, user):
    return file_request(session, target, evidence, actor_of(user), NOW, base_url=REQUEST_BASE_URL)


def _frozen(session, req):
    return set(
        session.scalars(
            sa.select(EmailAddress.address)
            .join(RequestAddress, RequestAddress.address_id == EmailAddress.id)
            .where(RequestAddress.request_id == req.id)
        )
    )


def _tag_id(session, account_id, name):
    return session.scalar(sa.select(Tag.id).where(Tag.account_id == account_id, Tag.name == name))


def test_freezes_only_the_eligible_addresses_of_the_selection(
    session, customer, make_contact, evidence
):
    make_contact(customer, email="new@acme.example", email2="two@acme.example", tags=("Fair",))
    make_contact(customer, email="ok@acme.example", consent=True, tags=("Fair",))
    make_contact(customer, email="gone@acme.example", tags=("Fair",))
    make_contact(customer, email="untagged@acme.example")
    gone = session.scalar(sa.select(EmailAddress).where(EmailAddress.address.startswith("gone")))
    change_status(session, gone, S.opted_out_by_recipient, Actor(ActorKind.recipient), NOW)
    flt = ContactFilter(customer.account_id, tag_id=_tag_id(session, customer.account_id, "Fair"))
    target = OptInTarget(flt, EMAIL)

    summary = target.summary(session)
    assert (summary.total, summary.eligible) == (3, 1)
    assert summary.skipped_by_reason == {
        "Already marketable": 1,
        "Opted out by the recipient (only they can opt back in)": 1,
    }
    req = _file(session, target, evidence, customer)
    session.commit()
    assert _frozen(session, req) == {"new@acme.example"}
    assert (req.address_count, req.kind, req.state) == (
        1,
        RequestKind.mass_opt_in,
        RequestState.submitted,
    )
    assert req.selection == "tag Fair" and req.fields == "email"
    row = session.scalars(
        sa.select(RequestAddress).where(RequestAddress.request_id == req.id)
    ).one()
    assert (row.field, row.status_at_filing, row.outcome) == (
        EmailField.email,
        S.non_marketable,
        None,
    )


def test_contacts_tagged_after_filing_are_not_swept_in(session, customer, make_contact, evidence):
    make_contact(customer, email="early@acme.example", tags=("Fair",))
    flt = ContactFilter(customer.account_id, tag_id=_tag_id(session, customer.account_id, "Fair"))
    req = _file(session, OptInTarget(flt, EMAIL), evidence, customer)
    session.commit()
    make_contact(customer, email="late@acme.example", tags=("Fair",))
    assert _frozen(session, req) == {"early@acme.example"}


def test_refuses_a_selection_with_nothing_eligible(session, customer, make_contact, evidence):
    make_contact(customer, email="ok@acme.example", consent=True)
    with pytest.raises(ValidationError, match="no address in this selection is eligible"):
        _file(session, OptInTarget(ContactFilter(customer.account_id), EMAIL), evidence, customer)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(ConsentRequest)) == 0


def test_no_to_explicit_permission_files_nothing(session, customer, make_contact, evidence):
    make_contact(customer, email="new@acme.example")
    target = OptInTarget(ContactFilter(customer.account_id), EMAIL)
    with pytest.raises(ValidationError) as err:
        _file(session, target, replace(evidence, explicit_permission="no"), customer)
    assert err.value.field == "explicit_permission"
    # They stay non-marketable until each signs up again (DOMAIN.md); never "double opt-in".
    assert "signs up again" in err.value.reason and "double opt-in" not in err.value.reason
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(ConsentRequest)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_stores_the_evidence_and_it_cannot_change_after_filing(session, customer, file_opt_in):
    req = file_opt_in(customer)
    assert req.never_sent and req.last_sent_on is None
    assert req.form_links == ["https://acme.example/newsletter"]
    req.reason = "A better reason written after the fact, long enough."
    with pytest.raises(ValueError, match="evidence cannot change after filing: reason"):
        session.flush()
    session.rollback()


def test_only_customers_file_and_only_for_their_own_account(
    session, customer, other_customer, agent, make_contact, evidence
):
    make_contact(customer, email="new@acme.example")
    target = OptInTarget(ContactFilter(customer.account_id), EMAIL)
    with pytest.raises(NotAllowed):
        _file(session, target, evidence, agent)
    with pytest.raises(NotFound):
        _file(session, target, evidence, other_customer)


# --- undo of a mass opt-out ---


def _opt_out_everything(session, user):
    flt = ContactFilter(user.account_id)
    fields = (EmailField.email, EmailField.email2)
    n = preview(session, flt, fields, Direction.opt_out).changing
    batch = mass_opt_out(session, flt, fields, actor_of(user), NOW, n)
    session.commit()
    return batch


def test_undo_freezes_the_batch_addresses_still_opted_out_with_their_prior_status(
    session, customer, make_contact, evidence
):
    make_contact(customer, email="a@acme.example", email2="b@acme.example", consent=True)
    make_contact(customer, email="c@acme.example")
    batch = _opt_out_everything(session, customer)
    c = session.scalar(sa.select(EmailAddress).where(EmailAddress.address == "c@acme.example"))
    change_status(session, c, S.hard_bounce, Actor(ActorKind.system), NOW)
    target = UndoTarget(customer.account_id, batch.id)
    summary = target.summary(session)
    assert (summary.total, summary.eligible, summary.skipped_by_reason) == (
        3,
        2,
        {"Hard bounce since": 1},
    )
    req = _file(session, target, evidence, customer)
    session.commit()
    rows = session.execute(
        sa.select(
            EmailAddress.address, RequestAddress.prior_status, RequestAddress.status_at_filing
        )
        .join(RequestAddress, RequestAddress.address_id == EmailAddress.id)
        .where(RequestAddress.request_id == req.id)
        .order_by(EmailAddress.address)
    ).all()
    assert rows == [
        ("a@acme.example", S.single_opt_in, S.opted_out_by_user),
        ("b@acme.example", S.single_opt_in, S.opted_out_by_user),
    ]
    assert req.mass_action_id == batch.id and req.kind is RequestKind.undo_opt_out
    assert req.selection.startswith(f"mass opt-out #{batch.id} of ")


def test_undo_names_a_batch_of_the_same_account(
    session, customer, other_customer, make_contact, evidence
):
    make_contact(other_customer, email="x@globex.example")
    theirs = _opt_out_everything(session, other_customer)
    with pytest.raises(NotFound):
        _file(session, UndoTarget(customer.account_id, theirs.id), evidence, customer)


def test_one_undo_per_batch_while_another_is_open_or_approved(
    session, customer, make_contact, evidence
):
    make_contact(customer, email="a@acme.example")
    batch = _opt_out_everything(session, customer)
    first = _file(session, UndoTarget(customer.account_id, batch.id), evidence, customer)
    session.commit()
    with pytest.raises(ValidationError, match=f"{first.number} already covers"):
        _file(session, UndoTarget(customer.account_id, batch.id), evidence, customer)
    assert session.scalar(sa.select(sa.func.count()).select_from(MassAction)) == 1
