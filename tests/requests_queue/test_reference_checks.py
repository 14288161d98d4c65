"""The rule-book test's reference checks catch what the dropped foreign keys used to refuse,
and more (migrations c5e1a9d3b702, b7d3e5f1a926, d9f2a4c6e813): each kind of stray row,
written behind the product's back, makes `check_references` fail with its name; the rows the
product writes pass. Both databases."""

import pytest
import sqlalchemy as sa

from requests_queue.models import Contact, ImportBatch
from tests.requests_queue.rulebook_invariants import check_references

FILE = "First Name,Email\nAda,ada@example.org\nAlan,alan@example.org\n"

# (what is wrong, the statements that make it so, the words the failure names it by)
STRAYS = [
    ("a match of another account's contact",
     ["UPDATE import_matches SET contact_id = :theirs WHERE contact_id = :ours"], "import matches"),
    ("a match of a missing batch",
     ["UPDATE import_matches SET batch_id = 999"], "import matches"),
    ("a contact of a missing account",
     ["UPDATE contacts SET account_id = 999 WHERE id = :ours"], "contacts"),
    ("a contact of a missing import",
     ["UPDATE contacts SET import_batch_id = 999 WHERE id = :ours"], "contacts"),
    ("a contact of another account's import",
     ["UPDATE contacts SET import_batch_id = :their_batch WHERE id = :ours"], "contacts"),
    ("an address under another account's contact",
     ["UPDATE email_addresses SET contact_id = :theirs, field = 'email2' WHERE contact_id = :ours"],
     "addresses"),
]  # fmt: skip


@pytest.fixture
def imported(session, do_import, customer, other_customer):
    """The customer imported the file twice (the second run matched both contacts), the other
    customer once: matches, batches and contacts of two accounts."""
    do_import(FILE)
    batch = do_import(FILE)
    theirs = do_import(FILE, user=other_customer)
    contact = lambda user: session.scalar(  # noqa: E731
        sa.select(sa.func.min(Contact.id)).where(Contact.account_id == user.account_id)
    )
    assert batch.updated_count == 2 and theirs.created_count == 2
    return {
        "ours": contact(customer),
        "theirs": contact(other_customer),
        "their_batch": theirs.id,
    }


def test_the_rows_the_product_writes_pass(session, imported):
    check_references(session)
    assert session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 3


@pytest.mark.parametrize(("what", "statements", "named"), STRAYS, ids=[s[0] for s in STRAYS])
def test_each_stray_row_is_named(session, imported, what, statements, named):
    for statement in statements:
        session.execute(sa.text(statement), imported)
    session.flush()
    with pytest.raises(AssertionError, match=named):
        check_references(session)
