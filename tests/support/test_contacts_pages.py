"""The contact list, a contact's history, adding and editing, confined to one account."""

import re

import sqlalchemy as sa

from requests_queue.models import EmailAddress
from requests_queue.statuses import EmailStatus


def test_contact_list_shows_own_contacts_only(client, customer, other_customer, make_contact):
    make_contact(customer, first_name="Ada", email="ada@acme.example")
    make_contact(other_customer, first_name="Eve", email="eve@globex.example")
    client.login(customer.email)
    page = client.get("/contacts").get_data(as_text=True)
    assert "ada@acme.example" in page and "eve@globex.example" not in page


def test_another_accounts_contact_is_a_404(client, customer, other_customer, make_contact):
    theirs = make_contact(other_customer, email="eve@globex.example")
    client.login(customer.email)
    assert client.get(f"/contacts/{theirs.id}").status_code == 404
    assert client.get(f"/contacts/{theirs.id}/edit").status_code == 404
    assert client.post(f"/contacts/{theirs.id}/edit", {"first_name": "x"}).status_code == 404
    assert client.get("/contacts/999999").status_code == 404


def test_another_accounts_tag_in_a_filter_is_a_404(client, customer, other_customer, make_contact):
    theirs = make_contact(other_customer, email="eve@globex.example", tags=("VIP",))
    client.login(customer.email)
    assert client.get(f"/contacts?tag={theirs.tags[0].id}").status_code == 404


def test_search_filters_by_name_or_address_prefix(client, customer, make_contact):
    make_contact(customer, first_name="Ada", last_name="Lovelace", email="ada@acme.example")
    make_contact(customer, first_name="Bob", last_name="Stone", email="bob@acme.example")
    client.login(customer.email)
    for query in ("ada", "LOVE", "ada@acme"):
        page = client.get(f"/contacts?q={query}").get_data(as_text=True)
        assert "ada@acme.example" in page and "bob@acme.example" not in page


def test_status_filter_lists_contacts_with_an_address_in_that_status(
    client, customer, make_contact
):
    make_contact(customer, email="in@acme.example", consent=True)
    make_contact(customer, email="out@acme.example")
    client.login(customer.email)
    page = client.get("/contacts?status=single_opt_in").get_data(as_text=True)
    assert "in@acme.example" in page and "out@acme.example" not in page


def test_adding_a_contact_without_consent_makes_it_non_marketable(client, session, customer):
    client.login(customer.email)
    response = client.post("/contacts/new", {"first_name": "Ada", "email": " Ada@Acme.Example "})
    assert response.status_code == 302
    address = session.scalar(sa.select(EmailAddress))
    assert (address.address, address.status) == ("ada@acme.example", EmailStatus.non_marketable)
    history = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "created as" in history and "Non-marketable" in history


def test_adding_with_recorded_consent_makes_it_single_opt_in(client, session, customer):
    client.login(customer.email)
    client.post("/contacts/new", {"email": "ada@acme.example", "consent_recorded": "y"})
    assert session.scalar(sa.select(EmailAddress.status)) is EmailStatus.single_opt_in


def test_an_invalid_address_is_reported_next_to_its_field_and_nothing_is_saved(
    client, session, customer
):
    client.login(customer.email)
    response = client.post(
        "/contacts/new", {"email": "ok@acme.example", "email2": "not-an-address"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'aria-invalid="true" id="email2"', page)
    assert re.search(r'id="email2-help"><span class="field-error" role="alert">[^<]*@-sign', page)
    assert 'aria-invalid="true" id="email"' not in page
    assert session.scalar(sa.select(sa.func.count()).select_from(EmailAddress)) == 0


def test_an_address_of_another_contact_is_refused(client, customer, make_contact):
    make_contact(customer, email="taken@acme.example")
    client.login(customer.email)
    page = client.post("/contacts/new", {"email": "taken@acme.example"}).get_data(as_text=True)
    assert "already belongs to another contact" in page


def test_editing_an_address_starts_the_new_one_non_marketable_and_keeps_the_old_history(
    client, session, customer, make_contact
):
    contact = make_contact(customer, email="old@acme.example", consent=True)
    client.login(customer.email)
    client.post(f"/contacts/{contact.id}/edit", {"email": "new@acme.example"})
    rows = dict(session.execute(sa.select(EmailAddress.address, EmailAddress.status)).all())
    assert rows == {
        "old@acme.example": EmailStatus.single_opt_in,
        "new@acme.example": EmailStatus.non_marketable,
    }


def test_removing_and_re_adding_an_opted_out_address_keeps_it_opted_out(
    client, session, customer, make_contact
):
    from requests_queue.status_changes import change_status
    from requests_queue.statuses import Actor, ActorKind

    from ..conftest import NOW

    contact = make_contact(customer, email="gone@acme.example", consent=True)
    change_status(
        session,
        contact.addresses[0],
        EmailStatus.opted_out_by_recipient,
        Actor(ActorKind.recipient),
        NOW,
    )
    session.commit()
    client.login(customer.email)
    client.post(f"/contacts/{contact.id}/edit", {"email": ""})
    client.post("/contacts/new", {"email": "gone@acme.example", "consent_recorded": "y"})
    assert session.scalar(sa.select(EmailAddress.status)) is EmailStatus.opted_out_by_recipient


def test_user_text_is_escaped(client, customer):
    client.login(customer.email)
    response = client.post("/contacts/new", {"first_name": "<script>alert(1)</script>"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def _pager(page: str) -> str:
    return " ".join(re.search(r'<nav class="pager".*?</nav>', page, re.S).group(0).split())


def test_a_large_list_is_counted_only_as_far_as_its_page_needs(app, client, customer, make_contact):
    app.config["CONTACT_COUNT_CAP"] = 5  # a million-address account stops at 10,000
    for i in range(60):
        make_contact(customer, first_name=f"c{i:02}", email=f"c{i:02}@acme.example")
    client.login(customer.email)
    first = client.get("/contacts?status=non_marketable").get_data(as_text=True)
    # The first page (50 rows) needs 50 counted: it says there are more and offers the next.
    assert "Showing more than 50 matching contacts" in first
    assert "Page 1 of more than 1" in _pager(first) and 'rel="next"' in _pager(first)
    assert len(re.findall(r"c\d\d@acme\.example", first)) == 50
    second = client.get("/contacts?status=non_marketable&page=2").get_data(as_text=True)
    # The second page counts to its end and finds the last ten: the count is exact again.
    assert "Showing 60 matching contacts" in second
    assert "Page 2 of 2" in _pager(second) and 'rel="next"' not in _pager(second)
    assert len(re.findall(r"c\d\d@acme\.example", second)) == 10


def test_a_list_under_the_cap_is_counted_exactly(app, client, customer, make_contact):
    for i in range(3):
        make_contact(customer, first_name=f"c{i}", email=f"c{i}@acme.example")
    client.login(customer.email)
    page = client.get("/contacts").get_data(as_text=True)
    assert "more than" not in page and "Page 1 of 1" in _pager(page)
