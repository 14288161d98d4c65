"""Proof of consent downloads: per address from its history, for the contact list's selection
and for a mass action; streamed, the customer's own account only."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from requests_queue.campaigns.links import HIDDEN
from requests_queue.mass_actions import mass_opt_out
from requests_queue.models import CampaignRecipient, EmailAddress, EmailField
from requests_queue.now import now_utc
from requests_queue.proof import HEADER
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"


@pytest.fixture
def ada(app, client, session, customer, make_contact, make_campaign) -> EmailAddress:
    """Ada: added with consent, confirmed in her browser, then unsubscribed by her mail app."""
    make_contact(customer, first_name="Ada", consent=True, email="ada@acme.example")
    make_contact(customer, first_name="Bob", email="bob@acme.example")
    make_campaign(customer, at=now_utc(), search="ada")
    recipient = session.scalar(sa.select(CampaignRecipient))
    client.post(f"/r/confirm/{recipient.confirm_token}", headers={"User-Agent": BROWSER})
    app.test_client().post(
        f"/r/unsubscribe/{recipient.unsubscribe_token}/one-click",
        data={"List-Unsubscribe": "One-Click"},
        headers={"User-Agent": "MailProvider/2.0"},
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )
    session.expire_all()
    return session.scalar(sa.select(EmailAddress).where(EmailAddress.address == recipient.address))


def _table(response) -> list[dict]:
    text = response.get_data(as_text=True).removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]


def test_the_history_page_links_each_address_to_its_proof(client, customer, ada):
    client.login(customer.email)
    page = client.get(f"/contacts/{ada.contact_id}").get_data(as_text=True)
    assert f'href="/addresses/{ada.id}/proof.csv"' in page
    assert f'href="/addresses/{ada.id}/proof.json"' in page


def test_an_address_proof_holds_the_click_ip_browser_and_the_email_text(client, customer, ada):
    client.login(customer.email)
    response = client.get(f"/addresses/{ada.id}/proof.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="proof-of-consent-address-{ada.id}.csv"'
    )
    created, confirmed, left = _table(response)
    assert (created["to_status"], created["actor_name"]) == ("single_opt_in", customer.email)
    assert (confirmed["to_status"], confirmed["user_agent"]) == ("double_opt_in", BROWSER)
    assert confirmed["client_ip"] == "127.0.0.1" and confirmed["actor"] == "recipient"
    assert "Acme" in confirmed["email_text"] and "/r/confirm/" + HIDDEN in confirmed["email_text"]
    assert (left["to_status"], left["client_ip"]) == ("opted_out_by_recipient", "192.0.2.44")
    assert left["user_agent"] == "MailProvider/2.0" and "One-click" in left["channel"]


def test_the_json_proof_names_what_was_exported(client, customer, ada):
    client.login(customer.email)
    response = client.get(f"/addresses/{ada.id}/proof.json")
    assert response.mimetype == "application/json"
    document = json.loads(response.get_data(as_text=True))
    assert document["account"] == "Acme" and document["selection"] == "ada@acme.example"
    assert document["exported_by"] == customer.email
    [address] = document["addresses"]
    assert [e["to_status"] for e in address["events"]] == [
        "single_opt_in",
        "double_opt_in",
        "opted_out_by_recipient",
    ]


def test_the_contact_lists_selection_exports_what_the_filter_shows(client, customer, ada):
    client.login(customer.email)
    page = client.get("/contacts?status=non_marketable").get_data(as_text=True)
    assert 'href="/contacts/proof.csv?status=non_marketable"' in page
    rows = _table(client.get("/contacts/proof.csv?status=non_marketable"))
    assert {r["address"] for r in rows} == {"bob@acme.example"}
    every = _table(client.get("/contacts/proof.csv"))
    assert {r["address"] for r in every} == {"ada@acme.example", "bob@acme.example"}
    assert _table(client.get("/contacts/proof.csv?field=email2")) == []


def test_a_mass_actions_proof_covers_the_addresses_it_changed(
    client, session, customer, make_contact
):
    make_contact(customer, consent=True, email="cy@acme.example")
    make_contact(customer, consent=True, email="di@acme.example")
    you = Actor(ActorKind.customer, customer.id)
    flt = ContactFilter(customer.account_id, search="cy")
    batch = mass_opt_out(session, flt, (EmailField.email,), you, now_utc(), expected_count=1)
    session.commit()
    client.login(customer.email)
    page = client.get(f"/mass-actions/{batch.id}").get_data(as_text=True)
    assert f'href="/mass-actions/{batch.id}/proof.json"' in page
    document = json.loads(client.get(f"/mass-actions/{batch.id}/proof.json").get_data())
    assert [a["address"] for a in document["addresses"]] == ["cy@acme.example"]
    assert document["addresses"][0]["events"][-1]["mass_action"]["id"] == batch.id


def test_another_accounts_address_or_batch_is_a_404(
    client, session, customer, other_customer, make_contact
):
    theirs = make_contact(other_customer, consent=True, email="eve@globex.example")
    you = Actor(ActorKind.customer, other_customer.id)
    flt = ContactFilter(other_customer.account_id)
    batch = mass_opt_out(session, flt, (EmailField.email,), you, now_utc(), expected_count=1)
    session.commit()
    client.login(customer.email)
    address_id = theirs.addresses[0].id
    for fmt in ("csv", "json"):
        assert client.get(f"/addresses/{address_id}/proof.{fmt}").status_code == 404
        assert client.get(f"/mass-actions/{batch.id}/proof.{fmt}").status_code == 404
    rows = _table(client.get("/contacts/proof.csv"))
    assert "eve@globex.example" not in {r["address"] for r in rows}


def test_an_unknown_format_or_field_is_a_404(client, customer, ada):
    client.login(customer.email)
    assert client.get(f"/addresses/{ada.id}/proof.xlsx").status_code == 404
    assert client.get("/contacts/proof.csv?field=email9").status_code == 404


def test_staff_cannot_download_a_customers_proof(client, agent, ada):
    client.login(agent.email)
    assert client.get(f"/addresses/{ada.id}/proof.csv").status_code == 403


def test_an_import_batchs_page_exports_the_proof_of_what_it_created(client, session, customer):
    from requests_queue.models import Contact, ImportBatch
    from requests_queue.status_changes import add_address
    from requests_queue.statuses import Cause, EmailStatus

    batch = ImportBatch(
        account_id=customer.account_id,
        user_id=customer.id,
        filename="=newsletter.csv",
        permission_confirmed=True,
        permission_statement="Every contact gave permission to receive marketing email.",
    )
    session.add(batch)
    session.flush()
    contact = Contact(account_id=customer.account_id, import_batch_id=batch.id)
    session.add(contact)
    session.flush()
    you = Actor(ActorKind.customer, customer.id)
    add_address(
        session, contact, EmailField.email, "fay@acme.example", EmailStatus.single_opt_in, you,
        now_utc(), Cause(import_batch_id=batch.id),
    )  # fmt: skip
    session.commit()
    client.login(customer.email)
    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert f'href="/contacts/proof.csv?batch={batch.id}"' in page
    [row] = _table(client.get(f"/contacts/proof.csv?batch={batch.id}"))
    assert row["address"] == "fay@acme.example" and row["cause"] == "import"
    assert row["import_file"] == "'=newsletter.csv", "a formula-like file name stays text"
    assert row["import_permission_confirmed"] == "yes"
    assert row["import_permission_statement"] == batch.permission_statement
    assert row["import_answered_by"] == customer.email
