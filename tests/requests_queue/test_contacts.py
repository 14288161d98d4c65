"""Contacts edited by hand: the parts not covered by the contact pages' tests."""

import sqlalchemy as sa

from requests_queue.contacts import get_or_create_tags
from requests_queue.models import Tag


def test_a_tag_name_longer_than_the_column_finds_the_tag_it_made(session, customer):
    long_name = "Spring fair visitors who asked for the catalogue " * 3  # over 80 characters
    first = get_or_create_tags(session, customer.account_id, (long_name,))
    session.commit()
    again = get_or_create_tags(session, customer.account_id, (long_name,))
    session.commit()
    assert [t.id for t in again] == [t.id for t in first]
    names = session.scalars(sa.select(Tag.name).where(Tag.account_id == customer.account_id))
    assert list(names) == [long_name.strip()[:80]]
