"""Provider feedback through the real endpoint: each provider's signed sample payloads,
tampered signatures, replays, stale timestamps, duplicates, unknown addresses, isolation."""

from __future__ import annotations

import base64
import json
import time

import pytest
import sqlalchemy as sa
from flask import g

from requests_queue.models import EmailAddress, StatusEvent
from requests_queue.models.feedback import FeedbackEvent, FeedbackFeed
from requests_queue.now import now_utc
from requests_queue.statuses import EmailStatus
from tests import feedback_samples as samples

S = EmailStatus
MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


@pytest.fixture
def sns(app):
    """A test SNS signer whose certificate the app gets from SNS_CERTIFICATES (no internet)."""
    signer = samples.SnsSigner()
    app.config["SNS_CERTIFICATES"] = {samples.CERT_URL: signer.pem}
    return signer


@pytest.fixture
def make_feed(session):
    """Add a feed to an account: make_feed(customer, "sendgrid", secret=…)."""

    def make(user, provider: str, **settings) -> FeedbackFeed:
        return samples.add_feed(session, user, provider, now_utc(), **settings)

    return make


@pytest.fixture
def post(app):
    """POST a raw body to a feed as the provider would (no cookie, no CSRF)."""
    http = app.test_client(use_cookies=False)

    def send(feed: FeedbackFeed, body: bytes, headers: dict | None = None):
        for key in list(g):
            g.pop(key)
        return http.post(
            f"/feedback/{feed.public_id}",
            data=body,
            headers=headers or {},
            content_type="application/json",
        )

    return send


def status_of(session, account_id: int, address: str) -> EmailStatus:
    session.expire_all()
    return session.scalar(
        sa.select(EmailAddress.status).where(
            EmailAddress.account_id == account_id, EmailAddress.address == address
        )
    )


def last_event(session, account_id: int, address: str) -> StatusEvent:
    return session.scalar(
        sa.select(StatusEvent)
        .join(EmailAddress, EmailAddress.id == StatusEvent.address_id)
        .where(EmailAddress.account_id == account_id, EmailAddress.address == address)
        .order_by(StatusEvent.id.desc())
        .limit(1)
    )


@pytest.fixture
def acme(customer, make_contact):
    """Acme's contacts: three single opt-in addresses."""
    for name in ("ada", "bob", "cy"):
        make_contact(customer, first_name=name, consent=True, email=f"{name}@acme.example")
    return customer


# --- SendGrid ----------------------------------------------------------------------------


def test_sendgrid_bounce_complaint_unsubscribe_change_statuses_naming_feed_and_event(
    session, acme, make_feed, post
):
    keys = samples.SendGridKeys()
    feed = make_feed(acme, "sendgrid", name="Main", secret=keys.public)
    body = samples.sendgrid_events(
        ("bounce", "Ada@Acme.example"),
        ("spamreport", "bob@acme.example"),
        ("unsubscribe", "cy@acme.example"),
        ("delivered", "cy@acme.example"),
        ids={"Ada@Acme.example": "sg-ada-1"},
    )
    response = post(feed, body, keys.headers(body))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {"received": 3, "new": 3, "duplicates": 0}
    account = acme.account_id
    assert status_of(session, account, "ada@acme.example") is S.hard_bounce
    assert status_of(session, account, "bob@acme.example") is S.spam_complaint
    assert status_of(session, account, "cy@acme.example") is S.opted_out_by_recipient
    event = last_event(session, account, "ada@acme.example")
    assert event.from_status is S.single_opt_in and event.actor_kind.value == "system"
    assert "“Main”" in event.note and "sg-ada-1" in event.note
    assert last_event(session, account, "cy@acme.example").actor_kind.value == "recipient"


def test_sendgrid_tampered_body_is_401_counted_and_not_processed(session, acme, make_feed, post):
    keys = samples.SendGridKeys()
    feed = make_feed(acme, "sendgrid", secret=keys.public)
    body = samples.sendgrid_events(("bounce", "ada@acme.example"))
    headers = keys.headers(body)
    tampered = body.replace(b"ada@acme", b"bob@acme")
    response = post(feed, tampered, headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    other_key = samples.SendGridKeys()
    assert post(feed, body, other_key.headers(body)).status_code == 401
    session.expire_all()
    assert session.get(FeedbackFeed, feed.id).bad_signature_count == 2
    assert session.scalar(sa.select(sa.func.count()).select_from(FeedbackEvent)) == 0
    assert status_of(session, acme.account_id, "bob@acme.example") is S.single_opt_in


def test_sendgrid_replay_is_refused_and_a_redelivery_is_stored_once(session, acme, make_feed, post):
    keys = samples.SendGridKeys()
    feed = make_feed(acme, "sendgrid", secret=keys.public)
    body = samples.sendgrid_events(("bounce", "ada@acme.example"))
    headers = keys.headers(body)
    assert post(feed, body, headers).status_code == 200
    replay = post(feed, body, headers)
    assert replay.status_code == 409
    # The provider's own retry is signed anew: accepted, but the event is not stored twice.
    retry = post(feed, body, keys.headers(body, at=time.time() + 1))
    assert retry.status_code == 200 and retry.json["duplicates"] == 1
    session.expire_all()
    assert session.get(FeedbackFeed, feed.id).refused_count == 1
    events = session.scalars(sa.select(StatusEvent).where(StatusEvent.to_status == S.hard_bounce))
    assert len(events.all()) == 1


def test_sendgrid_stale_signature_is_refused(session, acme, make_feed, post):
    keys = samples.SendGridKeys()
    feed = make_feed(acme, "sendgrid", secret=keys.public)
    body = samples.sendgrid_events(("bounce", "ada@acme.example"))
    response = post(feed, body, keys.headers(body, at=time.time() - 6 * 60))
    assert response.status_code == 401 and "over 5 minutes" in response.json["detail"]
    assert status_of(session, acme.account_id, "ada@acme.example") is S.single_opt_in
    session.expire_all()
    assert session.get(FeedbackFeed, feed.id).refused_count == 1


# --- Mailgun -----------------------------------------------------------------------------


def test_mailgun_permanent_failure_and_complaint(session, acme, make_feed, post):
    feed = make_feed(acme, "mailgun", secret=MAILGUN_KEY)
    bounce = samples.mailgun_body("failed", "ada@acme.example", MAILGUN_KEY, event_id="mg-1")
    assert post(feed, bounce).status_code == 200
    complaint = samples.mailgun_body("complained", "bob@acme.example", MAILGUN_KEY)
    assert post(feed, complaint).status_code == 200
    unsubscribed = samples.mailgun_body("unsubscribed", "cy@acme.example", MAILGUN_KEY)
    assert post(feed, unsubscribed).status_code == 200
    assert status_of(session, acme.account_id, "ada@acme.example") is S.hard_bounce
    assert status_of(session, acme.account_id, "bob@acme.example") is S.spam_complaint
    assert status_of(session, acme.account_id, "cy@acme.example") is S.opted_out_by_recipient
    assert "mg-1" in last_event(session, acme.account_id, "ada@acme.example").note


def test_mailgun_wrong_key_replay_and_stale_are_refused(session, acme, make_feed, post):
    feed = make_feed(acme, "mailgun", secret=MAILGUN_KEY)
    forged = samples.mailgun_body("failed", "ada@acme.example", "key-not-the-real-one")
    assert post(feed, forged).status_code == 401
    body = samples.mailgun_body("failed", "ada@acme.example", MAILGUN_KEY, severity="temporary")
    assert post(feed, body).status_code == 200
    assert post(feed, body).status_code == 409  # the same token again
    stale = samples.mailgun_body("failed", "bob@acme.example", MAILGUN_KEY, at=time.time() - 400)
    assert post(feed, stale).status_code == 401
    session.expire_all()
    row = session.get(FeedbackFeed, feed.id)
    assert (row.bad_signature_count, row.refused_count) == (1, 2)
    assert status_of(session, acme.account_id, "bob@acme.example") is S.single_opt_in
    # The temporary failure was a soft bounce: counted, the status kept.
    assert status_of(session, acme.account_id, "ada@acme.example") is S.single_opt_in


# --- Postmark ----------------------------------------------------------------------------


def test_postmark_with_basic_auth(session, acme, make_feed, post):
    feed = make_feed(acme, "postmark", username="postmark", secret="a-long-password-1")
    good = "Basic " + base64.b64encode(b"postmark:a-long-password-1").decode()
    wrong = "Basic " + base64.b64encode(b"postmark:guess").decode()
    body = samples.postmark_bounce("ada@acme.example", bounce_id=4323372036854775807)
    assert post(feed, body, {"Authorization": wrong}).status_code == 401
    assert post(feed, body).status_code == 401
    assert post(feed, body, {"Authorization": good}).status_code == 200
    complaint = samples.postmark_bounce("bob@acme.example", "SpamComplaint")
    assert post(feed, complaint, {"Authorization": good}).status_code == 200
    unsubscribe = samples.postmark_unsubscribe("cy@acme.example")
    assert post(feed, unsubscribe, {"Authorization": good}).status_code == 200
    assert status_of(session, acme.account_id, "ada@acme.example") is S.hard_bounce
    assert status_of(session, acme.account_id, "bob@acme.example") is S.spam_complaint
    assert status_of(session, acme.account_id, "cy@acme.example") is S.opted_out_by_recipient
    assert (
        "Bounce:4323372036854775807"
        in last_event(session, acme.account_id, "ada@acme.example").note
    )
    # Postmark redelivers the same bounce: stored once, answered 200.
    again = post(feed, body, {"Authorization": good})
    assert again.status_code == 200 and again.json["duplicates"] == 1


def test_a_key_sealed_with_a_secret_key_since_dropped_refuses_rather_than_checks_nothing(
    app, session, acme, make_feed, post
):
    feed = make_feed(acme, "postmark", username="postmark", secret="a-long-password-1")
    good = "Basic " + base64.b64encode(b"postmark:a-long-password-1").decode()
    body = samples.postmark_bounce("ada@acme.example")
    app.config["SECRET_KEY"] = "rotated-without-keeping-the-old-one"
    for headers in ({}, {"Authorization": good}):
        refused = post(feed, body, headers)
        assert refused.status_code == 401 and "SECRET_KEY changed" in refused.json["detail"]
    assert status_of(session, acme.account_id, "ada@acme.example") is not S.hard_bounce


def test_postmark_secret_url_alone_and_unknown_url(acme, make_feed, post):
    feed = make_feed(acme, "postmark")
    assert post(feed, samples.postmark_bounce("ada@acme.example")).status_code == 200
    unknown = FeedbackFeed(public_id=feed.public_id[:-1])  # not added to the session
    assert post(unknown, samples.postmark_bounce("ada@acme.example")).status_code == 404


def test_postmark_body_not_json_is_400(acme, make_feed, post):
    feed = make_feed(acme, "postmark")
    response = post(feed, b"<xml/>")
    assert response.status_code == 400 and "not JSON" in response.json["detail"]


# --- Standard Webhooks (generic) ---------------------------------------------------------


def test_standard_webhooks_batch_tamper_replay_stale(session, acme, make_feed, post):
    signer = samples.StandardSigner()
    feed = make_feed(acme, "standard", secret=signer.secret)
    body = samples.standard_body(
        ("hard_bounce", "ada@acme.example"), ("complaint", "bob@acme.example")
    )
    headers = signer.headers(body)
    assert post(feed, body.replace(b"ada@", b"cy@"), headers).status_code == 401
    assert post(feed, body, headers).status_code == 200
    assert post(feed, body, headers).status_code == 409
    stale = signer.headers(body, at=time.time() - 301)
    assert post(feed, body, stale).status_code == 401
    assert status_of(session, acme.account_id, "ada@acme.example") is S.hard_bounce
    assert status_of(session, acme.account_id, "bob@acme.example") is S.spam_complaint
    assert status_of(session, acme.account_id, "cy@acme.example") is S.single_opt_in


# --- Amazon SES through SNS --------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_ses_bounce_and_complaint_through_sns(session, acme, make_feed, post, sns, version):
    feed = make_feed(acme, "ses", topic_arn=samples.TOPIC)
    bounce = sns.sign(samples.ses_notification("Bounce", "ada@acme.example"), version)
    assert post(feed, bounce).status_code == 200
    complaint = sns.sign(samples.ses_notification("Complaint", "bob@acme.example"), version)
    assert post(feed, complaint).status_code == 200
    assert status_of(session, acme.account_id, "ada@acme.example") is S.hard_bounce
    assert status_of(session, acme.account_id, "bob@acme.example") is S.spam_complaint
    assert post(feed, bounce).status_code == 409  # the same message again


def test_ses_certificate_only_from_an_sns_host(session, acme, make_feed, post, sns, app):
    feed = make_feed(acme, "ses")
    message = samples.ses_notification("Bounce", "ada@acme.example")
    for url in (
        "https://evil.example/SimpleNotificationService-test.pem",
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
        "https://user@sns.us-east-1.amazonaws.com/cert.pem",
    ):
        app.config["SNS_CERTIFICATES"][url] = sns.pem  # even if it could be fetched
        assert post(feed, sns.sign(message, cert_url=url)).status_code == 401, url
    forged = json.loads(sns.sign(message))
    forged["Message"] = forged["Message"].replace("ada@", "bob@")
    assert post(feed, json.dumps(forged).encode()).status_code == 401
    other_topic = sns.sign(message | {"TopicArn": "arn:aws:sns:us-east-1:1:other"})
    feed.topic_arn = samples.TOPIC
    session.commit()
    assert post(feed, other_topic).status_code == 401
    session.expire_all()
    assert session.get(FeedbackFeed, feed.id).bad_signature_count == 6
    assert status_of(session, acme.account_id, "ada@acme.example") is S.single_opt_in


def test_ses_subscription_is_recorded_and_shown_to_the_owner(
    session, acme, make_feed, post, sns, client
):
    feed = make_feed(acme, "ses")
    message = samples.sns_subscription()
    response = post(feed, sns.sign(message, "2"))
    assert response.status_code == 200 and "subscription recorded" in response.json["note"]
    client.login(acme.email)
    page = client.get(f"/settings/feedback/{feed.id}").get_data(as_text=True)
    assert "Action=ConfirmSubscription" in page
    # The first notification shows the subscription works.
    assert (
        post(feed, sns.sign(samples.ses_notification("Bounce", "ada@acme.example"))).status_code
        == 200
    )
    page = client.get(f"/settings/feedback/{feed.id}").get_data(as_text=True)
    assert "Action=ConfirmSubscription" not in page and "Subscription active" in page


# --- Unknown addresses, soft bounces, final statuses, isolation --------------------------


def test_unknown_address_is_stored_and_shown(session, acme, make_feed, post, client):
    feed = make_feed(acme, "postmark")
    assert post(feed, samples.postmark_bounce("nobody@elsewhere.example")).status_code == 200
    row = session.scalar(sa.select(FeedbackEvent))
    assert row.outcome.value == "unknown_address" and row.address_id is None
    client.login(acme.email)
    page = client.get(f"/settings/feedback/{feed.id}").get_data(as_text=True)
    assert "nobody@elsewhere.example" in page and "Unknown address" in page


def test_soft_bounces_reach_the_limit_without_changing_the_status(session, acme, make_feed, post):
    feed = make_feed(acme, "postmark", soft_bounce_limit=3, soft_bounce_window_hours=24)
    outcomes = []
    for _ in range(4):
        assert (
            post(feed, samples.postmark_bounce("ada@acme.example", "SoftBounce")).status_code == 200
        )
        session.expire_all()
        outcomes.append(
            session.scalar(sa.select(FeedbackEvent).order_by(FeedbackEvent.id.desc())).outcome.value
        )
    assert outcomes == ["soft_counted", "soft_counted", "soft_threshold", "soft_counted"]
    assert status_of(session, acme.account_id, "ada@acme.example") is S.single_opt_in
    threshold = session.scalar(
        sa.select(FeedbackEvent).where(FeedbackEvent.outcome == "soft_threshold")
    )
    assert "3 or more soft bounces within 24 h" in threshold.detail


def test_a_hard_bounce_is_final_an_unsubscribe_after_it_changes_nothing(
    session, acme, make_feed, post
):
    feed = make_feed(acme, "postmark")
    assert post(feed, samples.postmark_bounce("ada@acme.example")).status_code == 200
    assert post(feed, samples.postmark_unsubscribe("ada@acme.example")).status_code == 200
    assert status_of(session, acme.account_id, "ada@acme.example") is S.hard_bounce
    last = session.scalar(sa.select(FeedbackEvent).order_by(FeedbackEvent.id.desc()))
    assert last.outcome.value == "unchanged"


def test_a_feed_of_one_account_never_touches_another_accounts_address(
    session, acme, other_customer, make_contact, make_feed, post
):
    make_contact(other_customer, consent=True, email="shared@globex.example")
    keys = samples.SendGridKeys()
    feed = make_feed(acme, "sendgrid", secret=keys.public)
    body = samples.sendgrid_events(("bounce", "shared@globex.example"))
    assert post(feed, body, keys.headers(body)).status_code == 200
    assert status_of(session, other_customer.account_id, "shared@globex.example") is S.single_opt_in
    row = session.scalar(sa.select(FeedbackEvent))
    assert row.account_id == acme.account_id and row.outcome.value == "unknown_address"
