"""Mass opt-out and the preview both directions share (DOMAIN.md: Mass actions, rule 5)."""

import pytest
import sqlalchemy as sa

from requests_queue.errors import ValidationError
from requests_queue.mass_actions import Direction, mass_opt_out, preview, prior_statuses
from requests_queue.models import EmailAddress, EmailField, StatusEvent
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus

from ..conftest import NOW

S = EmailStatus
BOTH = (EmailField.email, EmailField.email2)


@pytest.fixture
def mixed(session, customer, make_contact):
    """Six contacts of one tag whose first address covers the interesting statuses."""
    recipient, system = Actor(ActorKind.recipient), Actor(ActorKind.system)
    plan = [
        (S.non_marketable, None),
        (S.single_opt_in, None),
        (S.double_opt_in, recipient),
        (S.opted_out_by_recipient, recipient),
        (S.hard_bounce, system),
        (S.single_opt_in, None),
    ]
    contacts = []
    for i, (final, actor) in enumerate(plan):
        consent = final is not S.non_marketable
        c = make_contact(
            customer,
            consent=consent,
            tags=("List",),
            email=f"p{i}@acme.example",
            email2=f"q{i}@acme.example" if i == 0 else "",
        )
        if actor is not None:
            change_status(session, c.addresses[0], final, actor, NOW)
        contacts.append(c)
    session.commit()
    return contacts


def _statuses(session, account_id):
    return dict(
        session.execute(
            sa.select(EmailAddress.address, EmailAddress.status).where(
                EmailAddress.account_id == account_id
            )
        ).all()
    )


def test_preview_counts_changes_and_groups_skips_by_reason(session, customer, mixed):
    p = preview(session, ContactFilter(customer.account_id), BOTH, Direction.opt_out)
    assert (p.changing, p.skipped, p.total) == (5, 2, 7)
    assert p.skipped_by_reason == {"Hard bounce": 1, "Opted out by the recipient": 1}


def test_opt_in_preview_counts_only_non_marketable_as_eligible(session, customer, mixed):
    p = preview(session, ContactFilter(customer.account_id), BOTH, Direction.opt_in)
    assert p.changing == 2
    assert p.skipped_by_reason["Already marketable"] == 3


def test_preview_changes_nothing(session, customer, mixed):
    before = _statuses(session, customer.account_id)
    preview(session, ContactFilter(customer.account_id), BOTH, Direction.opt_out)
    assert _statuses(session, customer.account_id) == before


def test_mass_opt_out_changes_eligible_addresses_and_records_prior_status(session, customer, mixed):
    actor = Actor(ActorKind.customer, customer.id)
    batch = mass_opt_out(session, ContactFilter(customer.account_id), BOTH, actor, NOW, 5)
    session.commit()
    after = _statuses(session, customer.account_id)
    assert after["p3@acme.example"] is S.opted_out_by_recipient  # never touched
    assert after["p4@acme.example"] is S.hard_bounce
    assert [after[f"p{i}@acme.example"] for i in (0, 1, 2, 5)] == [S.opted_out_by_user] * 4
    assert batch.changed_count == 5 and batch.skipped_count == 2
    item = prior_statuses(batch.id).subquery()  # the undo's snapshot: the batch's events
    priors = dict(
        session.execute(
            sa.select(EmailAddress.address, item.c.prior_status).join(
                item, item.c.address_id == EmailAddress.id
            )
        ).all()
    )
    assert priors == {
        "p0@acme.example": S.non_marketable,
        "q0@acme.example": S.non_marketable,
        "p1@acme.example": S.single_opt_in,
        "p2@acme.example": S.double_opt_in,
        "p5@acme.example": S.single_opt_in,
    }
    events = session.scalars(
        sa.select(StatusEvent).where(StatusEvent.mass_action_id == batch.id)
    ).all()
    assert len(events) == 5
    assert {(e.to_status, e.actor_kind, e.actor_user_id) for e in events} == {
        (S.opted_out_by_user, ActorKind.customer, customer.id)
    }


def test_mass_opt_out_refuses_a_count_that_no_longer_matches_and_writes_nothing(
    session, customer, mixed
):
    actor = Actor(ActorKind.customer, customer.id)
    before = _statuses(session, customer.account_id)
    with pytest.raises(ValidationError) as err:
        mass_opt_out(session, ContactFilter(customer.account_id), BOTH, actor, NOW, 4)
    session.rollback()
    assert err.value.field == "confirm_count" and "type 5" in err.value.reason
    assert _statuses(session, customer.account_id) == before


def test_mass_opt_out_touches_only_the_chosen_fields(session, customer, mixed):
    actor = Actor(ActorKind.customer, customer.id)
    mass_opt_out(session, ContactFilter(customer.account_id), (EmailField.email2,), actor, NOW, 1)
    after = _statuses(session, customer.account_id)
    assert after["q0@acme.example"] is S.opted_out_by_user
    assert after["p0@acme.example"] is S.non_marketable


def test_mass_opt_out_never_reaches_another_account(
    session, customer, other_customer, make_contact, mixed
):
    make_contact(other_customer, email="p0@acme.example")  # same address, other tenant
    actor = Actor(ActorKind.customer, customer.id)
    mass_opt_out(session, ContactFilter(customer.account_id), BOTH, actor, NOW, 5)
    session.commit()
    assert _statuses(session, other_customer.account_id) == {"p0@acme.example": S.non_marketable}


def test_mass_opt_out_by_tag_leaves_untagged_contacts(session, customer, make_contact, mixed):
    make_contact(customer, email="untagged@acme.example", consent=True)
    tag_id = mixed[0].tags[0].id
    actor = Actor(ActorKind.customer, customer.id)
    flt = ContactFilter(customer.account_id, tag_id=tag_id)
    mass_opt_out(session, flt, BOTH, actor, NOW, 5)
    assert _statuses(session, customer.account_id)["untagged@acme.example"] is S.single_opt_in


@pytest.mark.parametrize("kind", [ActorKind.agent, ActorKind.recipient, ActorKind.system])
def test_only_customers_run_mass_opt_outs(session, customer, mixed, kind):
    with pytest.raises(ValidationError):
        mass_opt_out(session, ContactFilter(customer.account_id), BOTH, Actor(kind, 1), NOW, 5)
