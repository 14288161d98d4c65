"""Mass-action pages: preview, the confirmation step, the batch list, account confinement."""

import re
from datetime import timedelta

import sqlalchemy as sa

from requests_queue.mass_actions import record_opt_out
from requests_queue.models import EmailAddress, EmailField, MassAction
from requests_queue.now import now_utc
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind, EmailStatus, EventChannel
from tests.background_runs import wait_for_mass_actions

from ..conftest import NOW

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
    assert batch.expected_count == 4 and response.headers["Location"].endswith(f"/{batch.id}")
    flashed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "4 addresses are being opted out in the background" in flashed
    wait_for_mass_actions()
    session.refresh(batch)
    assert (batch.state.value, batch.changed_count) == ("done", 4)
    page = client.get(f"/mass-actions/{batch.id}").get_data(as_text=True)
    assert "Applying…" not in page and "Request undo…" in page
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


def _recorded(session, customer, tag) -> MassAction:
    """A confirmed mass opt-out whose run has not started (the web process stopped first)."""
    flt = ContactFilter(customer.account_id, tag_id=tag)
    actor = Actor(ActorKind.customer, customer.id, EventChannel.web)
    batch = record_opt_out(session, flt, (EmailField.email, EmailField.email2), actor, NOW, 4)
    session.commit()
    return batch


def test_while_it_applies_the_page_shows_progress_and_offers_no_undo(
    client, session, customer, other_customer, make_contact
):
    batch = _recorded(session, customer, _setup(customer, make_contact))
    batch.heartbeat_at = now_utc()  # a run holds it (in another process)
    session.commit()
    client.login(customer.email)
    page = client.get(f"/mass-actions/{batch.id}").get_data(as_text=True)
    assert "Applying…" in page and "0</span> of 4 addresses opted out so far" in page
    assert "Request undo…" not in page and 'http-equiv="refresh"' in page
    progress = client.get(f"/mass-actions/{batch.id}/progress.json").json
    assert progress == {"done": False, "percent": 0, "changed": 0, "expected": 4}
    assert "(applying…)" in client.get("/mass-actions").get_data(as_text=True)
    assert "applying: 0 of 4 so far" in client.get("/home").get_data(as_text=True)
    client.login(other_customer.email)
    assert client.get(f"/mass-actions/{batch.id}/progress.json").status_code == 404


def test_a_batch_whose_run_died_is_resumed_by_its_page(client, session, customer, make_contact):
    batch = _recorded(session, customer, _setup(customer, make_contact))
    batch.heartbeat_at = now_utc() - timedelta(minutes=5)  # its run went quiet
    session.commit()
    client.login(customer.email)
    page = client.get(f"/mass-actions/{batch.id}").get_data(as_text=True)
    assert "Stalled, resuming…" in page
    wait_for_mass_actions()
    session.refresh(batch)
    assert (batch.state.value, batch.changed_count) == ("done", 4)
    page = client.get(f"/mass-actions/{batch.id}").get_data(as_text=True)
    assert "Applying…" not in page and "Request undo…" in page
