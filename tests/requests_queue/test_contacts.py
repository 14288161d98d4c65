"""Contacts edited by hand: the parts not covered by the contact pages' tests."""

import sqlalchemy as sa

from requests_queue.contacts import ContactData, get_or_create_tags, update_contact
from requests_queue.models import EmailField, Tag
from requests_queue.statuses import Actor, ActorKind
from tests.conftest import NOW


def test_a_tag_name_longer_than_the_column_finds_the_tag_it_made(session, customer):
    long_name = "Spring fair visitors who asked for the catalogue " * 3  # over 80 characters
    first = get_or_create_tags(session, customer.account_id, (long_name,))
    session.commit()
    again = get_or_create_tags(session, customer.account_id, (long_name,))
    session.commit()
    assert [t.id for t in again] == [t.id for t in first]
    names = session.scalars(sa.select(Tag.name).where(Tag.account_id == customer.account_id))
    assert list(names) == [long_name.strip()[:80]]


def test_swapping_two_addresses_of_a_contact_keeps_both_and_their_statuses(
    session, customer, make_contact
):
    contact = make_contact(customer, consent=True, email="a@acme.example", email2="b@acme.example")
    session.refresh(contact)
    ids = {a.address: (a.id, a.status) for a in contact.addresses}
    data = ContactData(
        first_name="Test",
        emails={EmailField.email: "b@acme.example", EmailField.email2: "a@acme.example"},
    )
    update_contact(session, contact, data, Actor(ActorKind.customer, customer.id), NOW)
    session.commit()
    session.refresh(contact)
    after = {a.field: a for a in contact.addresses}
    assert after[EmailField.email].address == "b@acme.example"
    assert after[EmailField.email2].address == "a@acme.example"
    assert {a.address: (a.id, a.status) for a in contact.addresses} == ids
