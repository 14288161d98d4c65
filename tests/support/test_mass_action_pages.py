"""Mass-action pages: preview, the confirmation step, the batch list, account confinement."""

import re

import sqlalchemy as sa

from requests_queue.models import EmailAddress, MassAction
from requests_queue.statuses import EmailStatus

PREVIEW = "/mass-actions/new?tag={tag}&fields=email&direction={direction}"


def _setup(customer, make_contact):
    contacts = [
        make_contact(customer, email=f"a{i}@acme.example", consent=i % 2 == 0, tags=("List",))
        for i in range(4)
    ]
    return contacts[0].tags[0].id


def test_preview_shows_counts_and_the_warning_before_anything_changes(
    client, session, customer, make_contact
):
    tag = _setup(customer, make_contact)
    client.login(customer.email)
    page = client.get(PREVIEW.format(tag=tag, direction="opt_out")).get_data(as_text=True)
    assert re.search(r'id="changing-count">4<', page)
    assert "You cannot undo this yourself." in page
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(EmailAddress)
            .where(EmailAddress.status == EmailStatus.opted_out_by_user)
        )
        == 0
    )


def test_confirming_with_the_number_runs_the_opt_out_as_one_batch(
    client, session, customer, make_contact
):
    tag = _setup(customer, make_contact)
    client.login(customer.email)
    response = client.post(PREVIEW.format(tag=tag, direction="opt_out"), {"confirm_count": "4"})
    assert response.status_code == 302
    batch = session.scalar(sa.select(MassAction))
    assert batch.changed_count == 4 and response.headers["Location"].endswith(f"/{batch.id}")
    listing = client.get("/mass-actions").get_data(as_text=True)
    assert f"#{batch.id} Mass opt-out" in listing


def test_a_wrong_number_is_refused_next_to_the_field(client, session, customer, make_contact):
    tag = _setup(customer, make_contact)
    client.login(customer.email)
    page = client.post(PREVIEW.format(tag=tag, direction="opt_out"), {"confirm_count": "3"})
    assert "Type 4, the number of addresses" in page.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(MassAction)) == 0


def test_opt_in_preview_explains_it_is_a_request_to_support(client, customer, make_contact):
    tag = _setup(customer, make_contact)
    client.login(customer.email)
    page = client.get(PREVIEW.format(tag=tag, direction="opt_in")).get_data(as_text=True)
    assert re.search(r'id="changing-count">2<', page)
    assert "support" in page and "Opt out these addresses" not in page


def test_one_address_is_spoken_of_in_the_singular(client, customer, make_contact):
    tag = make_contact(customer, email="one@acme.example", consent=False, tags=("One",)).tags[0].id
    client.login(customer.email)
    opt_in = client.get(PREVIEW.format(tag=tag, direction="opt_in")).get_data(as_text=True)
    assert "Request opt-in of this address…" in opt_in
    opt_out = client.get(PREVIEW.format(tag=tag, direction="opt_out")).get_data(as_text=True)
    assert "Once this address is opted out," in opt_out
    several = _setup(customer, make_contact)
    page = client.get(PREVIEW.format(tag=several, direction="opt_out")).get_data(as_text=True)
    assert "Once these 4 addresses are opted out," in page


def test_no_field_chosen_is_reported(client, customer, make_contact):
    tag = _setup(customer, make_contact)
    client.login(customer.email)
    page = client.get(f"/mass-actions/new?tag={tag}&direction=opt_out").get_data(as_text=True)
    assert "Choose at least one email field." in page


def test_another_accounts_batch_is_a_404(client, customer, other_customer, make_contact):
    tag = _setup(customer, make_contact)
    client.login(customer.email)
    client.post(PREVIEW.format(tag=tag, direction="opt_out"), {"confirm_count": "4"})
    client.logout()
    client.login(other_customer.email)
    assert client.get("/mass-actions/1").status_code == 404
    assert "No mass actions yet" in client.get("/mass-actions").get_data(as_text=True)
