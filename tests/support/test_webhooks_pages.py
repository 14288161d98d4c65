"""Specs for the webhook settings pages: customers (their account), managers (the desk)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from requests_queue.models import Role
from requests_queue.models.webhooks import DeliveryState, WebhookDelivery, WebhookEndpoint
from requests_queue.webhooks.sender import SendSettings, deliver_webhooks
from requests_queue.webhooks.targets import TargetPolicy
from tests.webhook_receiver import LOOPBACK, Receiver

from ..conftest import NOW

PAGE = "/account/webhooks"


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 and a free port."""
    with Receiver() as running:
        yield running


@pytest.fixture
def loopback(app):
    """This app lets endpoints be http://127.0.0.1 (tests only; production refuses it)."""
    app.config.update(LOOPBACK)


def add(client, url, events=("request.filed",), description=""):
    return client.post(PAGE, {"url": url, "events": list(events), "description": description})


def endpoint_ids(session) -> list[int]:
    session.expire_all()
    return list(session.scalars(sa.select(WebhookEndpoint.id).order_by(WebhookEndpoint.id)))


def test_a_customer_adds_an_endpoint_and_sees_its_secret_once(
    client, session, customer, loopback, receiver
):
    client.login(customer.email)
    page = add(client, receiver.url, ["request.filed", "address.status_changed"], "CRM")
    assert page.status_code == 200
    secret = re.search(r'<code id="new-secret">(whsec_[A-Za-z0-9+/=]+)</code>', page.text)
    assert secret is not None
    (endpoint_id,) = endpoint_ids(session)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    assert endpoint.secret == secret.group(1)
    assert endpoint.account_id == customer.account_id
    again = client.get(PAGE).text
    assert receiver.url in again and secret.group(1) not in again
    assert secret.group(1) not in client.get(f"{PAGE}/{endpoint_id}").text


def test_a_private_address_is_refused_next_to_the_url(client, session, customer):
    client.login(customer.email)
    page = add(client, "https://169.254.169.254/latest/meta-data/")
    assert page.status_code == 400
    assert re.search(r'field-error" role="alert">[^<]*link-local', page.text)
    page = add(client, "http://127.0.0.1:9/hooks")  # loopback is off unless configured
    assert page.status_code == 400 and "Use an https:// URL" in page.text
    page = add(client, "https://127.0.0.1:9/hooks")
    assert page.status_code == 400 and "loopback" in page.text
    assert endpoint_ids(session) == []


def test_choosing_no_event_is_refused_next_to_the_events(client, session, customer, loopback):
    client.login(customer.email)
    page = add(client, "http://127.0.0.1:9/hooks", events=())
    assert page.status_code == 400 and "Choose at least one event" in page.text
    assert endpoint_ids(session) == []


def test_adding_needs_the_csrf_token(client, session, customer, loopback):
    client.login(customer.email)
    page = client.post(PAGE, {"url": "http://127.0.0.1:9/h", "events": "request.filed"}, csrf=False)
    assert page.status_code == 400
    assert endpoint_ids(session) == []


def test_another_accounts_endpoint_is_a_404_everywhere(
    client, session, customer, other_customer, manager, loopback
):
    client.login(other_customer.email)
    add(client, "http://127.0.0.1:9/theirs")
    (theirs,) = endpoint_ids(session)
    client.logout()
    client.login(customer.email)
    assert client.get(f"{PAGE}/{theirs}").status_code == 404
    for action in ("rotate", "retry", "delete"):
        assert client.post(f"{PAGE}/{theirs}/{action}").status_code == 404
    assert "127.0.0.1:9/theirs" not in client.get(PAGE).text
    client.logout()
    client.login(manager.email)  # the desk's endpoints are not any account's
    assert client.get(f"{PAGE}/{theirs}").status_code == 404
    assert endpoint_ids(session) == [theirs]


def test_agents_have_no_webhook_pages(client, agent):
    client.login(agent.email)
    assert client.get(PAGE).status_code == 403


def test_a_manager_adds_a_desk_endpoint_without_address_events(
    client, session, manager, customer, loopback
):
    client.login(manager.email)
    form = client.get(PAGE).text
    assert "Request decided" in form and "Address status changed" not in form
    refused = add(client, "http://127.0.0.1:9/desk", ["address.status_changed"])
    assert refused.status_code == 400 and "not offered here" in refused.text
    add(client, "http://127.0.0.1:9/desk", ["request.filed", "sla.breached"])
    (endpoint_id,) = endpoint_ids(session)
    assert session.get(WebhookEndpoint, endpoint_id).account_id is None
    client.logout()
    client.login(customer.email)
    assert "127.0.0.1:9/desk" not in client.get(PAGE).text


def test_a_failed_delivery_shows_its_last_answer_and_can_be_retried(
    client, session, customer, file_opt_in, loopback, receiver
):
    client.login(customer.email)
    add(client, receiver.url)
    (endpoint_id,) = endpoint_ids(session)
    file_opt_in(customer, n=1)
    receiver.fail_next(10_000)
    settings = SendSettings(targets=TargetPolicy(allow_loopback=True, allow_http=True))
    at = NOW
    for _ in range(40):
        deliver_webhooks(session, settings, now=lambda at=at: at)
        at += timedelta(hours=2)
    session.expire_all()
    (delivery,) = session.scalars(sa.select(WebhookDelivery)).all()
    assert delivery.state is DeliveryState.failed
    page = client.get(f"{PAGE}/{endpoint_id}").text
    assert "Failed" in page and "HTTP 500" in page and "receiver is down: try later" in page
    assert f"msg_{delivery.id}" in page
    listing = client.get(PAGE).text
    assert re.search(r'<strong class="field-error">1</strong>', listing)

    retried = client.post(f"{PAGE}/{endpoint_id}/retry", follow_redirects=True)
    assert "1 failed delivery will be sent again." in retried.text
    session.expire_all()
    assert session.get(WebhookDelivery, delivery.id).state is DeliveryState.pending


def test_rotating_shows_a_new_secret_once_and_removing_stops_everything(
    client, session, customer, file_opt_in, loopback, receiver
):
    client.login(customer.email)
    add(client, receiver.url)
    (endpoint_id,) = endpoint_ids(session)
    old = session.get(WebhookEndpoint, endpoint_id).secret
    page = client.post(f"{PAGE}/{endpoint_id}/rotate")
    new = re.search(r'<code id="new-secret">(whsec_[^<]+)</code>', page.text).group(1)
    session.expire_all()
    assert new != old and session.get(WebhookEndpoint, endpoint_id).secret == new
    file_opt_in(customer, n=1)
    client.post(f"{PAGE}/{endpoint_id}/delete")
    assert endpoint_ids(session) == []
    assert session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0
    deliver_webhooks(session, SendSettings(targets=TargetPolicy(True, True)), now=lambda: NOW)
    assert receiver.received == []


def test_user_text_is_escaped(client, customer, loopback):
    client.login(customer.email)
    add(client, "http://127.0.0.1:9/x", description="<script>alert(1)</script>")
    page = client.get(PAGE).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_the_account_page_links_to_webhooks_for_customers_and_managers(client, customer, make_user):
    client.login(customer.email)
    assert PAGE in client.get("/account").text
    client.logout()
    agent = make_user("a2@support.example", Role.agent)
    client.login(agent.email)
    assert PAGE not in client.get("/account").text
