"""An undo reads as an undo, and a mass opt-out already covered says by which request
(issue 14, item 3)."""

from datetime import timedelta

import pytest

from requests_queue.mass_actions import mass_opt_out
from requests_queue.models import EmailField, MassAction
from requests_queue.requests import lifecycle as ops
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.filing import file_request
from requests_queue.requests.targets import UndoTarget
from requests_queue.selection import ContactFilter

from ..conftest import NOW, REQUEST_BASE_URL, actor_of


@pytest.fixture
def opted_out(session, customer, make_contact) -> MassAction:
    """A mass opt-out of two single opt-in addresses."""
    for i in range(2):
        make_contact(customer, email=f"u{i}@acme.example", consent=True)
    flt = ContactFilter(customer.account_id)
    batch = mass_opt_out(session, flt, (EmailField.email,), actor_of(customer), NOW, 2)
    session.commit()
    return batch


def _file_undo(session, customer, batch, evidence):
    target = UndoTarget(customer.account_id, batch.id)
    later = NOW + timedelta(hours=1)
    req = file_request(
        session, target, evidence, actor_of(customer), later, base_url=REQUEST_BASE_URL
    )
    session.commit()
    return req


def test_the_undo_form_asks_why_undo_not_why_not_opted_in(client, customer, opted_out):
    client.login(customer.email)
    page = client.get(f"/mass-actions/{opted_out.id}/undo").get_data(as_text=True)
    assert "Why should this mass opt-out be undone?" in page
    assert "Why are these addresses not opted in now?" not in page
    assert "Evidence of permission" not in page
    assert "File the undo request" in page


def test_the_opt_in_form_keeps_its_own_wording(client, customer, make_contact):
    make_contact(customer, email="n@acme.example")
    client.login(customer.email)
    page = client.get("/requests/new/opt-in?fields=email").get_data(as_text=True)
    assert "Why are these addresses not opted in now?" in page and "Evidence of permission" in page


def test_an_open_undo_is_linked_from_the_batch_and_from_a_second_undo_form(
    client, session, customer, opted_out, evidence
):
    req = _file_undo(session, customer, opted_out, evidence)
    client.login(customer.email)
    batch_page = client.get(f"/mass-actions/{opted_out.id}").get_data(as_text=True)
    assert "Request undo…" not in batch_page
    assert f'Undo requested: <a href="/requests/{req.id}">{req.number}</a>' in batch_page
    form = client.get(f"/mass-actions/{opted_out.id}/undo").get_data(as_text=True)
    assert f'Request <a href="/requests/{req.id}">{req.number}</a>' in form
    assert "File the undo request" not in form  # nothing to file


def test_after_an_approved_undo_the_batch_says_so_and_offers_no_second_undo(
    client, session, customer, agent, opted_out, evidence
):
    req = _file_undo(session, customer, opted_out, evidence)
    when = NOW + timedelta(hours=2)
    ops.claim_request(session, req, actor_of(agent), when)
    approve_request(session, req, actor_of(agent), when, checklist=[k for k, _ in CHECKLIST],
                    base_url=REQUEST_BASE_URL)  # fmt: skip
    session.commit()
    client.login(customer.email)
    page = client.get(f"/mass-actions/{opted_out.id}").get_data(as_text=True)
    assert "Request undo…" not in page
    assert f'Undone by request <a href="/requests/{req.id}">{req.number}</a>' in page
    assert "2 addresses restored" in page
