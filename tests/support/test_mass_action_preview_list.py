"""The status filter, the chosen fields and the preview agree, and the preview lists the
addresses, a page at a time and as CSV (issue 14, item 2)."""

import csv
import io
import re

from requests_queue.mass_actions import Direction, preview
from requests_queue.models import EmailField
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import add_address, change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus

from ..conftest import NOW


def _mixed(session, customer, make_contact, n=3):
    """Contacts whose first address is marketable and second non-marketable, plus one whose
    first address is non-marketable and second opted out by the customer."""
    who = Actor(ActorKind.customer, customer.id)
    for i in range(n):
        c = make_contact(customer, first_name=f"Mix{i}", email=f"m{i}@acme.example", consent=True)
        second = f"m{i}b@acme.example"  # added later, without permission
        add_address(session, c, EmailField.email2, second, EmailStatus.non_marketable, who, NOW)
    other = make_contact(customer, first_name="Out", email="o@acme.example",
                         email2="o2@acme.example")  # fmt: skip
    change_status(
        session, other.address_in(EmailField.email2), EmailStatus.opted_out_by_user, who, NOW
    )
    session.commit()


def test_filtering_by_a_status_preselects_every_field_holding_it(
    client, session, customer, make_contact
):
    _mixed(session, customer, make_contact)
    client.login(customer.email)
    page = client.get("/mass-actions/new?status=non_marketable").get_data(as_text=True)
    assert re.search(r'value="email"[^>]*checked|checked[^>]*value="email"', page)
    assert re.search(r'value="email2"[^>]*checked|checked[^>]*value="email2"', page)
    assert not re.search(r'value="email3"[^>]*checked|checked[^>]*value="email3"', page)
    assert "The status filter picks addresses" in page


def test_the_preview_counts_only_the_filtered_status_in_every_chosen_field(
    client, session, customer, make_contact
):
    _mixed(session, customer, make_contact)
    client.login(customer.email)
    url = "/mass-actions/new?status=non_marketable&fields=email&fields=email2&direction=opt_in"
    page = client.get(url).get_data(as_text=True)
    # 3 second addresses and Out's first one; none of the marketable or opted-out ones.
    assert re.search(r'id="changing-count">4<', page)
    assert re.search(r'id="skipped-count">0<', page)
    for address in ("m0b@acme.example", "m2b@acme.example", "o@acme.example"):
        assert address in page
    assert "m0@acme.example" not in page and "o2@acme.example" not in page


def test_the_preview_lists_addresses_a_page_at_a_time(client, session, customer, make_contact):
    for i in range(53):
        make_contact(customer, first_name=f"P{i:02d}", email=f"p{i:02d}@acme.example")
    client.login(customer.email)
    url = "/mass-actions/new?fields=email&direction=opt_out"
    first = client.get(url).get_data(as_text=True)
    assert "Addresses 1–50 of 53" in first and first.count("Will be opted out") == 50
    second = client.get(url + "&page=2").get_data(as_text=True)
    assert "Addresses 51–53 of 53" in second and second.count("Will be opted out") == 3
    assert "p00@acme.example" in second  # newest contacts first, so the oldest is last


def test_the_preview_downloads_as_csv_with_what_happens_to_each_address(
    client, session, customer, other_customer, make_contact
):
    _mixed(session, customer, make_contact, n=1)
    make_contact(other_customer, first_name="=Theirs", email="t@other.example")
    client.login(customer.email)
    response = client.get("/mass-actions/preview.csv?fields=email&fields=email2&direction=opt_in")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["First name", "Last name", "Field", "Address", "Status now", "Outcome"]
    outcome = {r[3]: r[5] for r in rows[1:]}
    assert outcome == {
        "m0@acme.example": "Already marketable",
        "m0b@acme.example": "Eligible for opt-in",
        "o@acme.example": "Eligible for opt-in",
        "o2@acme.example": "Opted out by you (needs an undo-opt-out request)",
    }


def test_a_preview_csv_with_no_direction_is_a_404(client, customer):
    client.login(customer.email)
    assert client.get("/mass-actions/preview.csv?fields=email").status_code == 404


def test_a_preview_of_a_status_filter_counts_only_that_status(session, customer, make_contact):
    _mixed(session, customer, make_contact)
    flt = ContactFilter(customer.account_id, status=EmailStatus.single_opt_in)
    fields = tuple(EmailField)
    assert preview(session, flt, fields, Direction.opt_out).by_status == {
        EmailStatus.single_opt_in: 3
    }
