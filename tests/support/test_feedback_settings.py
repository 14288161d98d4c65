"""The feed settings pages: customers only, their own feeds only, CSRF, credentials never
shown back, each provider's credential checked next to its field, refusals counted."""

from __future__ import annotations

import re

import sqlalchemy as sa

from requests_queue.feedback.sealing import Sealer
from requests_queue.models.feedback import FeedbackFeed
from tests import feedback_samples as samples

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


def _add(client, **data):
    form = {
        "provider": "mailgun",
        "name": "Mailgun",
        "secret": MAILGUN_KEY,
        "soft_bounce_limit": "3",
        "soft_bounce_window_hours": "72",
        "is_enabled": "y",
    }
    return client.post("/settings/feedback/", form | data)


def test_customer_adds_a_feed_and_gets_a_secret_url_with_the_key_never_shown(
    session, client, customer
):
    client.login(customer.email)
    response = _add(client)
    assert response.status_code == 302
    feed = session.scalar(sa.select(FeedbackFeed))
    assert len(feed.public_id) >= 40 and feed.account_id == customer.account_id
    assert MAILGUN_KEY not in feed.secret_sealed
    assert Sealer(["test-secret"]).open(feed.secret_sealed) == MAILGUN_KEY
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/feedback/{feed.public_id}" in page
    assert MAILGUN_KEY not in page and "…eol0" in page


def test_an_edit_with_an_empty_key_keeps_the_stored_one(session, client, customer):
    client.login(customer.email)
    _add(client)
    feed = session.scalar(sa.select(FeedbackFeed))
    form = {"name": "Renamed", "secret": "", "soft_bounce_limit": "5"}
    form |= {"soft_bounce_window_hours": "24", "is_enabled": "y"}
    assert client.post(f"/settings/feedback/{feed.id}", form).status_code == 302
    session.expire_all()
    feed = session.get(FeedbackFeed, feed.id)
    assert (feed.name, feed.soft_bounce_limit) == ("Renamed", 5)
    assert Sealer(["test-secret"]).open(feed.secret_sealed) == MAILGUN_KEY


def test_a_bad_sendgrid_key_is_refused_next_to_its_field(session, client, customer):
    client.login(customer.email)
    response = _add(client, provider="sendgrid", secret="not a key")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="secret-help">.*paste the verification key', page, re.S)
    response = _add(client, provider="mailgun", secret="")
    assert "This provider signs its feed" in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(FeedbackFeed)) == 0
    assert (
        _add(client, provider="sendgrid", secret=samples.SendGridKeys().public).status_code == 302
    )


def test_the_form_needs_its_csrf_token(session, client, customer):
    client.login(customer.email)
    form = {"provider": "postmark", "name": "x", "soft_bounce_limit": "3"}
    response = client.post(
        "/settings/feedback/", form | {"soft_bounce_window_hours": "72"}, csrf=False
    )
    assert response.status_code == 400
    assert session.scalar(sa.select(sa.func.count()).select_from(FeedbackFeed)) == 0


def test_another_accounts_feed_is_a_404_and_support_gets_403(
    client, customer, other_customer, agent
):
    client.login(other_customer.email)
    _add(client, name="Globex bounces")
    client.logout()
    client.login(customer.email)
    assert client.get("/settings/feedback/1").status_code == 404
    assert client.post("/settings/feedback/1", {"name": "mine now"}).status_code == 404
    assert "Globex bounces" not in client.get("/settings/feedback/").get_data(as_text=True)
    client.logout()
    client.login(agent.email)
    assert client.get("/settings/feedback/").status_code == 403


def test_refused_deliveries_are_counted_on_the_page(app, client, customer):
    client.login(customer.email)
    _add(client, name="Signed")
    http = app.test_client(use_cookies=False)
    public_id = re.search(
        r"/feedback/([\w-]{40,})", client.get("/settings/feedback/1").get_data(as_text=True)
    ).group(1)
    forged = samples.mailgun_body("failed", "a@acme.example", "key-wrong")
    assert http.post(f"/feedback/{public_id}", data=forged).status_code == 401
    page = client.get("/settings/feedback/1").get_data(as_text=True)
    assert "1 with a bad signature" in page and "does not match the signing key" in page
    listing = client.get("/settings/feedback/").get_data(as_text=True)
    assert "1 bad signature" in listing


def test_a_disabled_feed_answers_404(app, session, client, customer):
    client.login(customer.email)
    _add(client, provider="postmark", secret="", is_enabled="")
    feed = session.scalar(sa.select(FeedbackFeed))
    http = app.test_client(use_cookies=False)
    assert (
        http.post(
            f"/feedback/{feed.public_id}", data=samples.postmark_bounce("a@b.example")
        ).status_code
        == 404
    )


def test_the_account_page_leads_customers_to_their_feeds_and_staff_nowhere(client, customer, agent):
    client.login(customer.email)
    assert 'href="/settings/feedback/"' in client.get("/account").get_data(as_text=True)
    client.logout()
    client.login(agent.email)
    assert "/settings/feedback/" not in client.get("/account").get_data(as_text=True)
