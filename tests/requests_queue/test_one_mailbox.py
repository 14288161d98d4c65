"""One mailbox is one address (DOMAIN.md rule 6): every spelling of it finds the same row."""

import unicodedata

import pytest
import sqlalchemy as sa

from requests_queue.contacts import ContactData, create_contact, update_contact
from requests_queue.errors import ValidationError
from requests_queue.mailbox import canonical_address, check_address
from requests_queue.models import Contact, EmailAddress, EmailField
from requests_queue.selection import ContactFilter, contact_conditions
from requests_queue.status_changes import add_address, change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from tests.conftest import NOW

UNICODE = "name@bücher.example"
PUNYCODE = "name@xn--bcher-kva.example"
NFC_LOCAL = unicodedata.normalize("NFC", "josé@example.com")
NFD_LOCAL = unicodedata.normalize("NFD", "josé@example.com")


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        (UNICODE, PUNYCODE),
        (PUNYCODE, PUNYCODE),
        ("  Name@Bücher.EXAMPLE\t", PUNYCODE),
        ("NAME@XN--BCHER-KVA.EXAMPLE", PUNYCODE),
        (unicodedata.normalize("NFD", "name@bücher.example"), PUNYCODE),
        (NFD_LOCAL, NFC_LOCAL),
        ("José@Example.COM", NFC_LOCAL),
        (" Plain.Person@Example.com ", "plain.person@example.com"),
    ],
)
def test_every_spelling_of_a_mailbox_has_one_canonical_form(spelling, canonical):
    assert canonical_address(spelling) == canonical
    assert check_address(spelling) == canonical


def test_check_address_names_the_field_of_an_invalid_address():
    with pytest.raises(ValidationError) as err:
        check_address("name@bü_cher.example", "email2")
    assert err.value.field == "email2"


def _address_rows(session, account_id):
    return session.scalars(
        sa.select(EmailAddress).where(EmailAddress.account_id == account_id)
    ).all()


def _opt_out(session, address, user):
    change_status(
        session, address, EmailStatus.opted_out_by_user, Actor(ActorKind.customer, user.id), NOW
    )
    session.commit()


@pytest.mark.parametrize(
    "spelling", [PUNYCODE, "NAME@XN--BCHER-KVA.EXAMPLE", "Name@BÜCHER.example"]
)
def test_import_in_another_spelling_never_brings_an_opted_out_mailbox_back(
    session,
    customer,
    make_contact,
    do_import,
    spelling,
):
    contact = make_contact(customer, email=UNICODE)
    _opt_out(session, contact.addresses[0], customer)

    batch = do_import(f"email,first_name\n{spelling},Name\n", permission=True)

    rows = _address_rows(session, customer.account_id)
    assert [(r.address, r.status) for r in rows] == [(PUNYCODE, EmailStatus.opted_out_by_user)]
    assert (batch.created_count, batch.updated_count) == (0, 1)


def test_import_of_two_spellings_of_one_mailbox_keeps_one_and_skips_the_other(
    session,
    customer,
    do_import,
):
    batch = do_import(f"email\n{NFC_LOCAL}\n{NFD_LOCAL.upper()}\n", permission=False)

    rows = _address_rows(session, customer.account_id)
    assert [r.address for r in rows] == [NFC_LOCAL]
    assert (batch.created_count, batch.skipped_count) == (1, 1)


def test_import_keeps_the_files_spelling_for_display(session, customer, do_import):
    do_import("email,email2\nName@Bücher.Example,plain@example.com\n", permission=False)

    rows = {r.address: r for r in _address_rows(session, customer.account_id)}
    assert rows[PUNYCODE].display == "Name@Bücher.Example"
    assert rows["plain@example.com"].typed_address is None
    assert rows["plain@example.com"].display == "plain@example.com"


def test_contact_form_refuses_another_spelling_of_an_address_another_contact_has(
    session, customer, make_contact
):
    make_contact(customer, email=NFC_LOCAL)
    data = ContactData(first_name="Copy", emails={EmailField.email: NFD_LOCAL.upper()})
    actor = Actor(ActorKind.customer, customer.id)

    with pytest.raises(ValidationError, match="already belongs to another contact"):
        create_contact(session, customer.account_id, data, actor, NOW)


def test_contact_form_refuses_one_mailbox_in_two_fields(session, customer):
    emails = {EmailField.email: UNICODE, EmailField.email2: PUNYCODE}
    data = ContactData(first_name="Twice", emails=emails)

    with pytest.raises(ValidationError, match="entered twice"):
        create_contact(
            session, customer.account_id, data, Actor(ActorKind.customer, customer.id), NOW
        )


def test_re_adding_a_removed_address_in_another_spelling_keeps_its_status(
    session, customer, make_contact
):
    contact = make_contact(customer, email=UNICODE)
    _opt_out(session, contact.addresses[0], customer)
    actor = Actor(ActorKind.customer, customer.id)
    update_contact(session, contact, ContactData(first_name="Gone", emails={}), actor, NOW)
    session.commit()

    data = ContactData(
        first_name="Back", emails={EmailField.email: PUNYCODE}, consent_recorded=True
    )
    update_contact(session, contact, data, actor, NOW)
    session.commit()

    rows = _address_rows(session, customer.account_id)
    assert [(r.address, r.status, r.contact_id) for r in rows] == [
        (PUNYCODE, EmailStatus.opted_out_by_user, contact.id)
    ]


def test_editing_only_the_spelling_keeps_the_address_and_shows_the_new_spelling(
    session, customer, make_contact
):
    contact = make_contact(customer, email=UNICODE)
    address_id = contact.addresses[0].id
    data = ContactData(first_name="Name", emails={EmailField.email: "NAME@Bücher.example"})
    update_contact(session, contact, data, Actor(ActorKind.customer, customer.id), NOW)
    session.commit()

    row = session.get(EmailAddress, address_id)
    assert (row.address, row.display) == (PUNYCODE, "NAME@Bücher.example")
    assert len(_address_rows(session, customer.account_id)) == 1


@pytest.mark.parametrize("search", ["name@bücher", "NAME@Bücher.example", "name@xn--bcher"])
def test_search_finds_a_mailbox_by_any_spelling(session, customer, make_contact, search):
    contact = make_contact(customer, email=UNICODE)
    make_contact(customer, email="other@example.com")

    found = session.scalars(
        sa.select(Contact.id).where(
            *contact_conditions(ContactFilter(customer.account_id, search=search))
        )
    ).all()
    assert found == [contact.id]


def test_the_status_writer_refuses_an_address_that_is_not_canonical(session, customer):
    contact = Contact(account_id=customer.account_id)
    session.add(contact)
    session.flush()

    with pytest.raises(ValueError, match="not a canonical address"):
        add_address(
            session,
            contact,
            EmailField.email,
            UNICODE,
            EmailStatus.non_marketable,
            Actor(ActorKind.customer, customer.id),
            NOW,
        )
