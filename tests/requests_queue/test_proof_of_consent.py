"""Proof of consent: every step of an address's history, with who, when, how and what they
were told, exported as CSV and JSON that say the same thing."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from requests_queue.blobs import BlobStore
from requests_queue.campaigns import ConsentProof, confirm_address, unsubscribe_address
from requests_queue.campaigns.links import HIDDEN
from requests_queue.mass_actions import mass_opt_out
from requests_queue.models import (
    CampaignRecipient,
    EmailAddress,
    EmailField,
    RequestEventKind,
    User,
)
from requests_queue.proof import (
    HEADER,
    address_selection,
    as_csv,
    as_json,
    filter_selection,
    mass_action_selection,
    proof_events,
    safe_cell,
)
from requests_queue.requests import lifecycle as ops
from requests_queue.requests.approval import approve_request
from requests_queue.requests.attachments import FileLimits, attach_files, check_files
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.filing import file_request
from requests_queue.requests.targets import UndoTarget
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind, EventChannel
from tests.conftest import NOW, REQUEST_BASE_URL
from tests.evidence import GOOD_EVIDENCE
from tests.evidence_samples import png

SECRET = "test-secret"
CLICK = ConsentProof(ip="203.0.113.9", user_agent="Mozilla/5.0 (X11; Linux) Firefox/140.0")
LEAVE = ConsentProof(
    ip="2001:db8::7", user_agent="Mail/1.0 (iPhone)", channel=EventChannel.one_click
)
WEB = EventChannel.web
LIMITS = FileLimits(max_files=3, max_bytes=64 * 1024)


def _at(hours: int):
    return NOW + timedelta(hours=hours)


@pytest.fixture
def ada(session, customer, agent, do_import, make_campaign):
    """ada@acme.example: imported with permission, opted out by the customer, restored by an
    approved undo request, confirmed by double opt-in, then unsubscribed by one-click."""
    do_import("email,first_name\nada@acme.example,Ada\nbob@acme.example,Bob\n")
    address = session.scalar(sa.select(EmailAddress).where(EmailAddress.address.like("ada@%")))
    you = Actor(ActorKind.customer, customer.id, WEB)
    flt = ContactFilter(customer.account_id, search="ada")
    batch = mass_opt_out(session, flt, (EmailField.email,), you, _at(1), expected_count=1)
    session.commit()
    target = UndoTarget(customer.account_id, batch.id)
    req = file_request(session, target, GOOD_EVIDENCE, you, _at(2), base_url=REQUEST_BASE_URL)
    screenshot = check_files([("signup-form.png", io.BytesIO(png()))], LIMITS)
    attach_files(session, BlobStore(), req, RequestEventKind.filed, screenshot, you, LIMITS, _at(2))
    support = Actor(ActorKind.agent, agent.id, WEB)
    ops.claim_request(session, req, support, _at(3))
    ops.ask_customer(session, req, "Which form?", support, _at(4), base_url=REQUEST_BASE_URL)
    ops.answer_question(
        session, req, '=HYPERLINK("http://evil")', you, _at(5), base_url=REQUEST_BASE_URL
    )
    checklist = [key for key, _ in CHECKLIST]
    approve_request(session, req, support, _at(6), checklist=checklist, base_url=REQUEST_BASE_URL)
    session.commit()
    make_campaign(customer, at=_at(7), search="ada")
    recipient = session.scalar(sa.select(CampaignRecipient))
    confirm_address(session, SECRET, recipient.confirm_token, _at(8), CLICK)
    session.commit()
    unsubscribe_address(session, SECRET, recipient.unsubscribe_token, _at(9), LEAVE)
    session.commit()
    return address


def _events(session, account_id, selection):
    return list(proof_events(session, account_id, selection, chunk=2))


def test_the_export_holds_each_step_with_actor_time_and_evidence(session, customer, agent, ada):
    rows = _events(session, customer.account_id, address_selection(customer.account_id, ada.id))
    steps = [(e["from_status"], e["to_status"], e["actor"], e["cause"]) for _, e in rows]
    assert steps == [
        (None, "single_opt_in", "customer", "import"),
        ("single_opt_in", "opted_out_by_user", "customer", "mass_action"),
        ("opted_out_by_user", "single_opt_in", "agent", "request"),
        ("single_opt_in", "double_opt_in", "recipient", "campaign"),
        ("double_opt_in", "opted_out_by_recipient", "recipient", "campaign"),
    ]
    imported, opted_out, approved, confirmed, left = (e for _, e in rows)
    assert imported["at"] == "2026-11-20T15:00:00Z"
    assert imported["import"]["permission_confirmed"] is True
    assert imported["import"]["answered_by"] == customer.email
    assert imported["import"]["permission_statement"]
    assert opted_out["channel"] == WEB.title and opted_out["actor_name"] == customer.email
    assert opted_out["mass_action"]["by"] == customer.email
    request = approved["request"]
    assert approved["at"] == "2026-11-20T21:00:00Z" and approved["actor_name"] == agent.email
    assert request["decided_by"] == agent.email and request["state"] == "Approved"
    assert request["evidence"]["permission_details"] == GOOD_EVIDENCE.permission_details
    assert request["evidence"]["form_links"] == list(GOOD_EVIDENCE.form_links)
    assert [c["kind"] for c in request["conversation"]] == ["Question from support", "Answer"]
    assert request["checklist"] == [key for key, _ in CHECKLIST]
    [attached] = request["attachments"]
    assert attached["name"] == "signup-form.png" and attached["content_type"] == "image/png"
    assert attached["sha256"] == hashlib.sha256(png()).hexdigest()
    assert (attached["size"], attached["came_with"]) == (len(png()), "filed")
    assert attached["uploaded_by"] == customer.email
    assert attached["uploaded_at"] == "2026-11-20T17:00:00Z"
    assert confirmed["at"] == "2026-11-20T23:00:00Z"
    assert (confirmed["client_ip"], confirmed["user_agent"]) == (CLICK.ip, CLICK.user_agent)
    assert confirmed["channel"] == EventChannel.recipient_link.title
    email = confirmed["confirmation_email"]
    assert email["written_at"] == "2026-11-20T22:00:00Z" and email["subject"]
    assert "/r/confirm/" + HIDDEN in email["text"], "the link is shown, its key is not"
    assert "Acme" in email["text"]
    assert (left["client_ip"], left["user_agent"]) == (LEAVE.ip, LEAVE.user_agent)
    assert left["channel"] == EventChannel.one_click.title
    assert left["confirmation_email"] == email


def test_the_email_text_is_the_text_that_was_written_for_that_recipient(session, customer, ada):
    from requests_queue.campaigns.links import hide_recipient_links
    from requests_queue.models import OutboxMessage

    sent = session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to_address == ada.address))
    rows = _events(session, customer.account_id, address_selection(customer.account_id, ada.id))
    assert rows[3][1]["confirmation_email"]["text"] == hide_recipient_links(sent.body_text)
    recipient = session.scalar(sa.select(CampaignRecipient))
    assert recipient.confirm_token not in rows[3][1]["confirmation_email"]["text"]


def test_csv_has_one_row_per_event_and_defuses_formulas(session, customer, ada):
    session.get(User, customer.id).name = '=HYPERLINK("http://evil.example","Click")'
    session.commit()
    rows = _events(session, customer.account_id, address_selection(customer.account_id, ada.id))
    text = "".join(as_csv(iter(rows)))
    assert text.startswith("\ufeff"), "spreadsheets read it as UTF-8"
    table = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert table[0] == HEADER and len(table) == 6
    record = dict(zip(HEADER, table[3], strict=True))
    assert record["address"] == "ada@acme.example" and record["actor"] == "agent"
    assert record["request_explicit_permission"] == "yes"
    assert record["request_filed_by"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert dict(zip(HEADER, table[2], strict=True))["actor_name"].startswith("'=HYPERLINK")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in table for cell in row)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        (True, "yes"),
        (None, ""),
        (["https://a.example", "=evil"], "https://a.example\n=evil"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(value, cell):
    assert safe_cell(value) == cell


def test_a_list_starting_with_a_formula_is_defused_too():
    assert safe_cell(["=evil", "x"]) == "'=evil\nx"


def test_json_is_valid_and_ordered_by_address_then_time(session, customer, ada):
    flt = ContactFilter(customer.account_id)
    rows = _events(session, customer.account_id, filter_selection(flt))
    document = json.loads("".join(as_json(iter(rows), {"account": "Acme"})))
    assert document["account"] == "Acme"
    addresses = document["addresses"]
    assert [a["address"] for a in addresses] == ["ada@acme.example", "bob@acme.example"]
    assert [a["address_id"] for a in addresses] == sorted(a["address_id"] for a in addresses)
    for address in addresses:
        ids = [e["event_id"] for e in address["events"]]
        times = [e["at"] for e in address["events"]]
        assert ids == sorted(ids) and times == sorted(times)
    assert len(addresses[0]["events"]) == 5 and addresses[1]["status"] == "single_opt_in"


def test_an_empty_selection_is_still_a_valid_document(session, customer):
    rows = _events(
        session, customer.account_id, filter_selection(ContactFilter(customer.account_id))
    )
    assert json.loads("".join(as_json(iter(rows), {}))) == {"addresses": []}
    text = "".join(as_csv(iter(rows))).removeprefix("\ufeff")
    assert list(csv.reader(io.StringIO(text))) == [HEADER]


def test_a_mass_actions_selection_is_the_addresses_it_changed(session, customer, ada):
    batch_id = _events(
        session, customer.account_id, address_selection(customer.account_id, ada.id)
    )[1][1]["cause_id"]
    rows = _events(session, customer.account_id, mass_action_selection(batch_id))
    assert {a.address for a, _ in rows} == {"ada@acme.example"}


def test_another_accounts_address_exports_nothing(session, customer, other_customer, ada):
    rows = _events(
        session, other_customer.account_id, address_selection(other_customer.account_id, ada.id)
    )
    assert rows == []
    # Even handed the id directly, the account's guard in the statement holds.
    sel = sa.select(sa.literal(ada.id))
    assert _events(session, other_customer.account_id, sel) == []


def test_a_provider_unsubscribe_names_the_feed_as_channel(session, customer, make_contact):
    from requests_queue.status_changes import change_many
    from requests_queue.statuses import EmailStatus

    contact = make_contact(customer, consent=True, email="cy@acme.example")
    feed = Actor(ActorKind.recipient, channel=EventChannel.provider_feed)
    ids = sa.select(EmailAddress.id).where(EmailAddress.contact_id == contact.id)
    change_many(
        session, customer.account_id, ids, EmailStatus.opted_out_by_recipient, feed, _at(1),
        note="SES feed: event 42",
    )  # fmt: skip
    session.commit()
    rows = _events(session, customer.account_id, ids)
    assert rows[-1][1]["channel"] == EventChannel.provider_feed.title
    assert rows[-1][1]["cause"] == "provider_feed" and rows[-1][1]["note"] == "SES feed: event 42"
    assert rows[0][1]["channel"] == "Not recorded"  # created by a test without a channel


def test_a_user_named_in_the_export_is_shown_by_name_when_set(session, customer, ada):
    session.get(User, customer.id).name = "Olive Owner"
    session.commit()
    rows = _events(session, customer.account_id, address_selection(customer.account_id, ada.id))
    assert rows[1][1]["actor_name"] == "Olive Owner"


def _many_addresses(session, account_id: int, n: int) -> None:
    """`n` contacts with one address and one event each, inserted in three statements."""
    from requests_queue.models import Contact, StatusEvent
    from requests_queue.statuses import EmailStatus

    first = 100_000
    ids = range(first, first + n)
    session.execute(
        sa.insert(Contact),
        [{"id": i, "account_id": account_id, "created_at": NOW} for i in ids],
    )
    session.execute(
        sa.insert(EmailAddress),
        [
            {
                "id": i,
                "account_id": account_id,
                "contact_id": i,
                "field": EmailField.email,
                "address": f"n{i}@bulk.example",
                "status": EmailStatus.non_marketable,
                "status_changed_at": NOW,
            }
            for i in ids
        ],
    )
    session.execute(
        sa.insert(StatusEvent),
        [
            {
                "id": i,
                "account_id": account_id,
                "address_id": i,
                "to_status": EmailStatus.non_marketable,
                "actor_kind": ActorKind.customer,
                "created_at": NOW,
                "note": "x" * 300,
            }
            for i in ids
        ],
    )
    session.commit()


def test_a_large_selection_streams_without_holding_it_in_memory(session, customer):
    import tracemalloc

    n = 20_000
    _many_addresses(session, customer.account_id, n)
    selection = filter_selection(ContactFilter(customer.account_id))
    tracemalloc.start()
    try:
        pieces = as_csv(proof_events(session, customer.account_id, selection, chunk=500))
        size = rows = 0
        for piece in pieces:
            size += len(piece)
            rows += piece.count("@bulk.example")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == n
    assert size > 6_000_000
    assert peak < size / 4, f"peak {peak:,} bytes for {size:,} characters written"
