"""Counts read as words do: 1 contact, 20 contacts (issue 14, item 12)."""

import pytest

from support.templating import counted


@pytest.mark.parametrize(
    ("n", "noun", "plural", "said"),
    [
        (0, "contact", "", "0 contacts"),
        (1, "contact", "", "1 contact"),
        (20, "contact", "", "20 contacts"),
        (1234, "address", "", "1,234 addresses"),
        (1, "address", "", "1 address"),
        (2, "matching contact", "", "2 matching contacts"),
        (3, "person", "people", "3 people"),
    ],
)
def test_a_count_agrees_with_its_noun(n, noun, plural, said):
    assert counted(n, noun, plural) == said


def test_one_matching_contact_is_not_contact_s(client, customer, make_contact):
    make_contact(customer, first_name="Solo", email="solo@acme.example")
    client.login(customer.email)
    page = client.get("/contacts?q=solo").get_data(as_text=True)
    assert "Showing 1 matching contact." in page and "contact(s)" not in page
