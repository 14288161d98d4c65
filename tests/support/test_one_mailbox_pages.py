"""What a customer sees of canonical addresses: their own spelling, and merged histories."""

import html

from requests_queue.models import AddressMerge, EmailAddress, StatusEvent
from requests_queue.statuses import ActorKind, EmailStatus
from tests.conftest import NOW


def _page(client, url: str) -> str:
    return html.unescape(client.get(url).get_data(as_text=True))


def test_contact_pages_show_the_spelling_the_customer_typed(client, customer, make_contact):
    contact = make_contact(customer, first_name="Name", email="Name@Bücher.Example")
    client.login(customer.email)

    assert "Name@Bücher.Example" in _page(client, f"/contacts/{contact.id}")
    assert "Name@Bücher.Example" in _page(client, "/contacts")
    assert 'value="Name@Bücher.Example"' in _page(client, f"/contacts/{contact.id}/edit")


def test_the_contact_form_says_why_another_spelling_of_a_used_address_is_refused(
    client, customer, make_contact
):
    make_contact(customer, first_name="First", email="name@bücher.example")
    client.login(customer.email)

    response = client.post(
        "/contacts/new", {"first_name": "Second", "email": "NAME@xn--bcher-kva.example"}
    )

    assert response.status_code == 200
    assert "This address already belongs to another contact" in _page_of(response)


def _page_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_merged_rows_history_is_shown_under_the_address_that_kept_the_mailbox(
    client, session, customer, make_contact
):
    contact = make_contact(customer, email="name@bücher.example")
    survivor = contact.addresses[0]
    # A row the migration retired: detached, tombstone key, its own creation event.
    retired = EmailAddress(
        account_id=customer.account_id,
        address="merged:x",
        typed_address="Name@bücher.example",
        status=EmailStatus.single_opt_in,
    )
    session.add(retired)
    session.flush()
    session.add_all(
        [
            StatusEvent(
                account_id=customer.account_id,
                address_id=retired.id,
                to_status=EmailStatus.single_opt_in,
                actor_kind=ActorKind.system,
                note="written before the merge",
                created_at=NOW,
            ),
            AddressMerge(
                account_id=customer.account_id,
                survivor_id=survivor.id,
                merged_id=retired.id,
                merged_address="Name@bücher.example",
                merged_status=EmailStatus.single_opt_in,
                merged_at=NOW,
            ),
        ]
    )
    session.commit()
    client.login(customer.email)

    page = _page(client, f"/contacts/{contact.id}")

    assert "Also stored as Name@bücher.example" in page
    assert "written before the merge" in page
