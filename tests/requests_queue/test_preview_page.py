"""The mass action preview's page read along the account's index (issue 11 §4: a page must not
sort the whole selection, nor walk another account's rows): every page of every filter shows
exactly the rows of the whole selection sorted and sliced (`preview_rows`, the plain query,
is the oracle), whatever fields each contact has filled and whoever's contacts come between
and after, on both databases."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from requests_queue.mass_actions import Direction, preview_page, preview_rows
from requests_queue.models import EmailAddress, EmailField, Tag
from requests_queue.selection import ContactFilter
from requests_queue.statuses import EmailStatus

FIELDS = tuple(EmailField)


@pytest.fixture
def mixed(session, customer, other_customer, make_contact):
    """30 contacts of the customer with one to three addresses, random statuses, some tagged,
    interleaved with the other account's contacts and followed by more of them."""
    rng = random.Random(11)
    for i in range(30):
        filled = rng.sample(FIELDS, rng.randint(1, 3))
        emails = {f.value: f"c{i}.{f.value}@mine.example" for f in filled}
        tags = ("Vip",) if i % 4 == 0 else ()
        make_contact(customer, first_name=f"c{i}", tags=tags, **emails)
        if i % 3 == 0:
            make_contact(other_customer, first_name=f"o{i}", email=f"o{i}@theirs.example")
    for i in range(10):
        make_contact(other_customer, first_name=f"late{i}", email=f"late{i}@theirs.example")
    statuses = list(EmailStatus)
    ids = session.scalars(
        sa.select(EmailAddress.id).where(EmailAddress.account_id == customer.account_id)
    ).all()
    for address_id in ids:
        session.execute(
            sa.update(EmailAddress)
            .where(EmailAddress.id == address_id)
            .values(status=rng.choice(statuses))
        )
    session.commit()
    return customer


def test_every_page_shows_the_rows_of_the_sorted_selection(session, mixed):
    tag = session.scalar(sa.select(Tag).where(Tag.account_id == mixed.account_id))
    filters = [
        ContactFilter(mixed.account_id),
        ContactFilter(mixed.account_id, status=EmailStatus.non_marketable),
        ContactFilter(mixed.account_id, status=EmailStatus.single_opt_in),
        ContactFilter(mixed.account_id, tag_id=tag.id),
        ContactFilter(mixed.account_id, search="c1"),
    ]
    checked = 0
    for flt in filters:
        for fields in (FIELDS, (EmailField.email,), (EmailField.email2, EmailField.email3)):
            for direction in Direction:
                whole = session.execute(preview_rows(flt, fields, direction)).all()
                for size in (1, 4, 7):
                    for offset in range(0, len(whole) + size, size):
                        page = preview_page(session, flt, fields, direction, offset, size)
                        assert page == whole[offset : offset + size], (flt, fields, offset)
                        checked += 1
    assert checked > 500
