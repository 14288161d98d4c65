"""The send-time check's one query: whatever characters the asked spellings hold, each answer
is the account's own address or "not found", never another address's, on both databases."""

from __future__ import annotations

import pytest

from requests_queue.send_check import lookup_addresses
from requests_queue.statuses import EmailStatus

ODD = [
    'a"b@acme.example',  # quotes, backslashes, commas and braces are array-literal syntax
    "a\\b@acme.example",
    "ada@acme.example,bob@acme.example",
    "{ada@acme.example}",
    '"ada@acme.example"',
    "ada@acme.example ",  # trailing space: the canonical form trims it, so this one matches
    "",
    "NULL",
]


@pytest.mark.parametrize("asked", ODD)
def test_odd_spellings_match_only_their_own_mailbox(session, customer, make_contact, asked):
    make_contact(customer, email="ada@acme.example")
    make_contact(customer, email="bob@acme.example", consent=True)
    session.commit()
    answers = lookup_addresses(
        session, customer.account_id, [asked, "bob@acme.example", "ADA@acme.example"]
    )
    assert [a.query for a in answers] == [asked, "bob@acme.example", "ADA@acme.example"]
    odd, bob, ada = answers
    assert (bob.status, ada.status) == (EmailStatus.single_opt_in, EmailStatus.non_marketable)
    if asked.strip().lower() == "ada@acme.example":
        assert odd.status is EmailStatus.non_marketable
    else:
        assert not odd.found and odd.status is None and odd.contact_id is None
