"""Who gets a double opt-in confirmation, what it says, and how it is queued."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.campaigns import (
    CampaignContent,
    RecipientLinks,
    check_content,
    create_campaign,
    preview_campaign,
    provided_content,
    resume_campaign_queueing,
    run_campaign_queueing,
)
from requests_queue.campaigns.content import fill_account
from requests_queue.campaigns.queueing import LostClaim, queue_chunk
from requests_queue.errors import ValidationError
from requests_queue.mail import deliver_outbox
from requests_queue.mail.withdrawal import NOT_SENT
from requests_queue.models import (
    Campaign,
    CampaignRecipient,
    CampaignState,
    CampaignTemplate,
    EmailAddress,
    EmailField,
    OutboxMessage,
    StatusEvent,
)
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, Cause, EmailStatus
from tests.campaign_queue import queue_campaign
from tests.conftest import NOW

S = EmailStatus
FIELDS = (EmailField.email,)
LINKS = RecipientLinks(secret="test-secret", base_url="https://desk.example")


def _address(session, text) -> EmailAddress:
    return session.scalar(sa.select(EmailAddress).where(EmailAddress.address == text))


def _set_status(session, user, text, status: EmailStatus):
    """Bring an address to `status` the way the product would."""
    address = _address(session, text)
    actor, cause = {
        S.opted_out_by_user: (Actor(ActorKind.customer, user.id), Cause()),
        S.opted_out_by_recipient: (Actor(ActorKind.recipient), Cause()),
        S.double_opt_in: (Actor(ActorKind.recipient), Cause(campaign_id=99)),
        S.spam_complaint: (Actor(ActorKind.system), Cause()),
        S.hard_bounce: (Actor(ActorKind.system), Cause()),
        S.invalid: (Actor(ActorKind.system), Cause()),
    }[status]
    change_status(session, address, status, actor, NOW - timedelta(days=90), cause)
    session.commit()


@pytest.fixture
def one_of_each(session, customer, make_contact):
    """One address in every status; all start with permission except the non-marketable one."""
    for status in S:
        make_contact(
            customer,
            first_name=status.value,
            consent=status is not S.non_marketable,
            email=f"{status.value}@acme.example",
        )
        if status not in (S.single_opt_in, S.non_marketable):
            _set_status(session, customer, f"{status.value}@acme.example", status)
    return customer


SKIPPED = {
    S.non_marketable: "Not marketable: no permission on record",
    S.double_opt_in: "Already confirmed (double opt-in)",
    S.opted_out_by_user: "Opted out by you",
    S.opted_out_by_recipient: "Opted out by the recipient",
    S.spam_complaint: "Spam complaint",
    S.hard_bounce: "Hard bounce",
    S.invalid: "Invalid address",
}


def test_only_single_opt_in_addresses_are_eligible(session, one_of_each):
    preview = preview_campaign(session, ContactFilter(one_of_each.account_id), FIELDS, NOW)
    assert preview.eligible == 1
    assert preview.skipped == len(SKIPPED)
    assert preview.skipped_by_reason == {reason: 1 for reason in sorted(SKIPPED.values())}


def test_queues_nothing_for_non_marketable_opted_out_bounced_or_complaint(
    session, one_of_each, make_campaign
):
    campaign = make_campaign(one_of_each)
    recipients = session.scalars(sa.select(OutboxMessage.to_address)).all()
    assert recipients == ["single_opt_in@acme.example"]
    assert campaign.recipient_count == 1 and campaign.skipped_count == len(SKIPPED)
    assert campaign.skipped_by_reason == {r: 1 for r in SKIPPED.values()}


def _history(session, text, to: EmailStatus, days_ago: int):
    """An old event in the address's history (the status it has now stays as it is)."""
    address = _address(session, text)
    session.add(
        StatusEvent(
            account_id=address.account_id,
            address_id=address.id,
            from_status=S.single_opt_in,
            to_status=to,
            created_at=NOW - timedelta(days=days_ago),
            actor_kind=ActorKind.recipient,
        )
    )
    session.commit()


@pytest.mark.parametrize(("days_ago", "eligible"), [(1, False), (29, False), (31, True)])
def test_skips_an_address_confirmed_in_the_last_30_days(
    session, customer, make_contact, days_ago, eligible
):
    make_contact(customer, consent=True, email="ada@acme.example")
    _history(session, "ada@acme.example", S.double_opt_in, days_ago)
    preview = preview_campaign(session, ContactFilter(customer.account_id), FIELDS, NOW)
    assert preview.eligible == int(eligible)
    if not eligible:
        assert preview.skipped_by_reason == {"Confirmed in the last 30 days": 1}


@pytest.mark.parametrize(("days_ago", "eligible"), [(0, False), (6, False), (8, True)])
def test_skips_an_address_sent_a_confirmation_in_the_last_7_days(
    session, customer, make_contact, make_campaign, days_ago, eligible
):
    make_contact(customer, consent=True, email="ada@acme.example")
    make_campaign(customer, at=NOW - timedelta(days=days_ago))
    preview = preview_campaign(session, ContactFilter(customer.account_id), FIELDS, NOW)
    assert preview.eligible == int(eligible)
    if not eligible:
        assert preview.skipped_by_reason == {"Sent a confirmation in the last 7 days": 1}


def test_an_address_both_confirmed_and_sent_recently_is_skipped_once_and_the_rest_counted(
    session, customer, make_contact, make_campaign
):
    """The two timing rules overlap: each address is counted under the first that keeps it
    out, and the other addresses of the selection stay eligible, whatever their number."""
    for name in ("ada", "bob", "cy", "dee"):
        make_contact(customer, consent=True, email=f"{name}@acme.example")
    make_campaign(customer, at=NOW - timedelta(days=2))  # sent to all four
    _history(session, "ada@acme.example", S.double_opt_in, 1)  # and ada confirmed since
    make_contact(customer, consent=True, email="eve@acme.example")  # new: never sent
    preview = preview_campaign(session, ContactFilter(customer.account_id), FIELDS, NOW)
    assert (preview.total, preview.eligible) == (5, 1)
    assert preview.skipped_by_reason == {
        "Sent a confirmation in the last 7 days": 3,
        "Confirmed in the last 30 days": 1,
    }


def test_writes_to_the_chosen_fields_of_the_selection_only(
    session, customer, make_contact, make_campaign
):
    make_contact(
        customer, consent=True, tags=("News",), email="a1@acme.example", email2="a2@acme.example"
    )
    make_contact(customer, consent=True, email="b1@acme.example")
    tag_id = session.scalar(sa.text("SELECT id FROM tags WHERE name = 'News'"))
    make_campaign(customer, fields=("email2",), tag_id=tag_id)
    assert session.scalars(sa.select(OutboxMessage.to_address)).all() == ["a2@acme.example"]


def test_every_message_carries_its_own_links_and_the_one_click_headers(
    session, customer, make_contact
):
    for n in range(3):
        make_contact(customer, consent=True, email=f"p{n}@acme.example")
    campaign = queue_campaign(
        session,
        ContactFilter(customer.account_id),
        FIELDS,
        provided_content(),
        Actor(ActorKind.customer, customer.id),
        NOW,
        LINKS,
    )
    session.commit()
    rows = session.execute(
        sa.select(OutboxMessage, CampaignRecipient)
        .join(CampaignRecipient, CampaignRecipient.address == OutboxMessage.to_address)
        .order_by(OutboxMessage.id)
    ).all()
    assert len(rows) == 3
    for message, recipient in rows:
        assert message.campaign_id == campaign.id and message.kind == "double_opt_in"
        assert message.account_id == customer.account_id
        assert message.subject == "Please confirm you want to keep hearing from Acme"
        confirm = f"https://desk.example/r/confirm/{recipient.confirm_token}"
        unsubscribe = f"https://desk.example/r/unsubscribe/{recipient.unsubscribe_token}"
        assert confirm in message.body_text and unsubscribe in message.body_text
        assert "{" not in message.body_text
        assert message.headers == {
            "List-Unsubscribe": f"<{unsubscribe}/one-click>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    assert len({r.confirm_token for _, r in rows}) == 3
    assert {(r.campaign_id, r.created_at) for _, r in rows} == {(campaign.id, NOW)}


def test_the_delivered_mail_has_the_links_and_headers(
    session, customer, make_contact, make_campaign, smtp_sink
):
    make_contact(customer, consent=True, email="ada@acme.example")
    make_campaign(customer)
    deliver_outbox(session, smtp_sink.transport(), NOW)
    [mail] = smtp_sink.to("ada@acme.example")
    recipient = session.scalar(sa.select(CampaignRecipient))
    assert f"/r/confirm/{recipient.confirm_token}" in mail.text
    assert mail.header("List-Unsubscribe").endswith(f"{recipient.unsubscribe_token}/one-click>")
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"


def test_refuses_when_the_selection_changed_since_the_preview(session, customer, make_contact):
    make_contact(customer, consent=True, email="ada@acme.example")
    with pytest.raises(ValidationError, match="changed since the preview: 1 addresses"):
        queue_campaign(
            session,
            ContactFilter(customer.account_id),
            FIELDS,
            provided_content(),
            Actor(ActorKind.customer, customer.id),
            NOW,
            LINKS,
            expected_count=2,
        )


def test_refuses_a_selection_with_nobody_eligible(session, customer, make_contact):
    make_contact(customer, consent=False, email="ada@acme.example")
    with pytest.raises(ValidationError, match="no address in this selection"):
        queue_campaign(
            session,
            ContactFilter(customer.account_id),
            FIELDS,
            provided_content(),
            Actor(ActorKind.customer, customer.id),
            NOW,
            LINKS,
        )


@pytest.mark.parametrize("kind", [ActorKind.agent, ActorKind.manager, ActorKind.system])
def test_only_the_accounts_own_users_send_confirmations(session, customer, make_contact, kind):
    make_contact(customer, consent=True, email="ada@acme.example")
    with pytest.raises(ValidationError, match="only the account's own users"):
        queue_campaign(
            session,
            ContactFilter(customer.account_id),
            FIELDS,
            provided_content(),
            Actor(kind, 1),
            NOW,
            LINKS,
        )


def test_uses_the_customers_own_subject_and_text(session, customer, make_contact):
    make_contact(customer, consent=True, email="ada@acme.example")
    own = CampaignContent(
        CampaignTemplate.custom,
        "Still with {account_name}?",
        "Click {confirm_link} to stay, or {unsubscribe_link} to leave.",
    )
    campaign = queue_campaign(
        session,
        ContactFilter(customer.account_id),
        FIELDS,
        own,
        Actor(ActorKind.customer, customer.id),
        NOW,
        LINKS,
    )
    message = session.scalar(sa.select(OutboxMessage))
    assert campaign.template is CampaignTemplate.custom
    assert message.subject == "Still with Acme?"
    assert message.body_text.startswith("Click https://desk.example/r/confirm/")


C = CampaignTemplate.custom
GOOD_BODY = "Confirm: {confirm_link}\nUnsubscribe: {unsubscribe_link}"


@pytest.mark.parametrize(
    ("subject", "body", "field", "message"),
    [
        ("", GOOD_BODY, "subject", "write a subject"),
        ("x" * 201, GOOD_BODY, "subject", "at most 200"),
        ("Hi", "Unsubscribe: {unsubscribe_link}", "body", "must contain {confirm_link}"),
        ("Hi", "Confirm: {confirm_link}", "body", "must contain {unsubscribe_link}"),
        ("Hi", GOOD_BODY + " {first_name}", "body", "{first_name} is not a placeholder"),
        ("Go {confirm_link}", GOOD_BODY, "subject", "links belong in the text"),
        ("Hi", GOOD_BODY + "x" * 20_000, "body", "at most 20,000"),
    ],
)
def test_rejects_content_that_breaks_a_rule(subject, body, field, message):
    with pytest.raises(ValidationError) as error:
        check_content(CampaignContent(C, subject, body))
    assert error.value.field == field and message in error.value.reason


def test_a_subject_stays_on_one_line():
    checked = check_content(CampaignContent(C, "Hello\r\nBcc: all@x", GOOD_BODY))
    assert checked.subject == "Hello Bcc: all@x"


def test_the_provided_template_has_both_links():
    content = check_content(provided_content())
    assert "{confirm_link}" in content.body and "{unsubscribe_link}" in content.body


# The web portal records the campaign and queues it in the background, a chunk at a time.


def _five(session, customer, make_contact) -> ContactFilter:
    for i in range(5):
        make_contact(customer, first_name=f"P{i}", consent=True, email=f"p{i}@acme.example")
    session.commit()
    return ContactFilter(customer.account_id)


def _recorded(session, customer, flt) -> int:
    actor = Actor(ActorKind.customer, customer.id)
    campaign = create_campaign(session, flt, FIELDS, provided_content(), actor, NOW, 5)
    session.commit()
    return campaign.id


def _written(session, campaign_id) -> list[str]:
    session.expire_all()
    return session.scalars(
        sa.select(OutboxMessage.to_address)
        .where(OutboxMessage.campaign_id == campaign_id)
        .order_by(OutboxMessage.to_address)
    ).all()


def test_sending_records_the_campaign_and_writes_no_email_yet(session, customer, make_contact):
    campaign_id = _recorded(session, customer, _five(session, customer, make_contact))
    campaign = session.get(Campaign, campaign_id)
    assert (campaign.state, campaign.expected_count, campaign.percent) == (
        CampaignState.queueing,
        5,
        0,
    )
    assert _written(session, campaign_id) == []


def test_the_background_run_writes_every_email_once_in_chunks(db, session, customer, make_contact):
    campaign_id = _recorded(session, customer, _five(session, customer, make_contact))
    state = run_campaign_queueing(db.engine, campaign_id, LINKS, clock=lambda: NOW, chunk=2)
    assert state is CampaignState.queued
    assert _written(session, campaign_id) == [f"p{i}@acme.example" for i in range(5)]
    campaign = session.get(Campaign, campaign_id)
    assert (campaign.recipient_count, campaign.percent) == (5, 100)
    # Every message still carries its own recipient's links.
    bodies = session.scalars(
        sa.select(OutboxMessage.body_text).where(OutboxMessage.campaign_id == campaign_id)
    ).all()
    tokens = session.scalars(
        sa.select(CampaignRecipient.confirm_token).where(
            CampaignRecipient.campaign_id == campaign_id
        )
    ).all()
    assert len(set(tokens)) == 5
    assert sorted(t for b in bodies for t in tokens if t in b) == sorted(tokens)


def test_a_run_that_died_is_resumed_where_it_stopped(db, session, customer, make_contact):
    campaign_id = _recorded(session, customer, _five(session, customer, make_contact))
    run_campaign_queueing(db.engine, campaign_id, LINKS, lambda: NOW, chunk=2, stop_after_chunks=1)
    assert len(_written(session, campaign_id)) == 2
    # While its heartbeat is fresh, nobody else takes it over …
    assert resume_campaign_queueing(session, LINKS, NOW + timedelta(seconds=30)) == []
    # … once it has gone quiet, the scheduler's job finishes it, writing nobody twice.
    resumed = resume_campaign_queueing(session, LINKS, NOW + timedelta(minutes=3))
    assert resumed == [(campaign_id, CampaignState.queued)]
    assert _written(session, campaign_id) == [f"p{i}@acme.example" for i in range(5)]
    assert session.get(Campaign, campaign_id).recipient_count == 5


def test_an_address_that_opts_out_while_the_run_goes_on_gets_nothing(
    db, session, customer, make_contact
):
    campaign_id = _recorded(session, customer, _five(session, customer, make_contact))
    run_campaign_queueing(db.engine, campaign_id, LINKS, lambda: NOW, chunk=2, stop_after_chunks=1)
    _set_status(session, customer, "p4@acme.example", S.opted_out_by_recipient)
    later = NOW + timedelta(minutes=3)
    assert run_campaign_queueing(db.engine, campaign_id, LINKS, lambda: later, chunk=2) is (
        CampaignState.queued
    )
    assert _written(session, campaign_id) == [f"p{i}@acme.example" for i in range(4)]


def _links_failing_after(signed: int) -> RecipientLinks:
    """Links whose signing fails after `signed` recipients (a fault, injected)."""
    calls = []

    class Broken(RecipientLinks):
        def tokens(self, claims, address, now):
            calls.append(address)
            if len(calls) > signed:
                raise RuntimeError("signing failed")
            return super().tokens(claims, address, now)

    return Broken(secret="test-secret", base_url="https://desk.example")


def test_a_run_that_fails_says_so_and_keeps_what_was_queued(db, session, customer, make_contact):
    campaign_id = _recorded(session, customer, _five(session, customer, make_contact))
    links = _links_failing_after(2)
    assert run_campaign_queueing(db.engine, campaign_id, links, lambda: NOW, chunk=2) is (
        CampaignState.failed
    )
    session.expire_all()
    campaign = session.get(Campaign, campaign_id)
    assert "internal error" in campaign.error and campaign.recipient_count == 2
    assert len(_written(session, campaign_id)) == 2  # the first chunk stays, and is sent


def test_the_schedulers_job_finishes_a_campaign_left_half_queued(
    db, session, customer, make_contact
):
    from requests_queue.jobs.runner import JobRunner
    from requests_queue.models import JobOutcome, JobRun

    campaign_id = _recorded(session, customer, _five(session, customer, make_contact))
    run_campaign_queueing(db.engine, campaign_id, LINKS, lambda: NOW, chunk=2, stop_after_chunks=1)
    settings = {"SECRET_KEY": "test-secret", "PUBLIC_BASE_URL": "https://desk.example"}
    later = NOW + timedelta(minutes=5)
    runner = JobRunner(db.engine, clock=lambda: later, settings=settings)
    run = session.get(JobRun, runner.run("resume_campaign_queueing"))
    assert (run.outcome, run.counts) == (JobOutcome.ok, {"resumed": 1, "queued": 1})
    assert len(_written(session, campaign_id)) == 5


def test_addresses_added_after_the_click_get_nothing(db, session, customer, make_contact):
    campaign_id = _recorded(session, customer, _five(session, customer, make_contact))
    make_contact(customer, consent=True, email="late@acme.example")
    run_campaign_queueing(db.engine, campaign_id, LINKS, lambda: NOW, chunk=2)
    assert _written(session, campaign_id) == [f"p{i}@acme.example" for i in range(5)]


def test_a_chunk_boundary_between_two_fields_of_one_contact_loses_neither(
    db, session, customer, make_contact
):
    make_contact(customer, consent=True, email="a1@acme.example", email2="a2@acme.example")
    make_contact(customer, consent=True, email="b1@acme.example", email2="b2@acme.example")
    actor = Actor(ActorKind.customer, customer.id)
    flt, both = ContactFilter(customer.account_id), (EmailField.email, EmailField.email2)
    campaign = create_campaign(session, flt, both, provided_content(), actor, NOW, 4)
    session.commit()
    run_campaign_queueing(db.engine, campaign.id, LINKS, lambda: NOW, chunk=1)
    assert _written(session, campaign.id) == [
        "a1@acme.example",
        "a2@acme.example",
        "b1@acme.example",
        "b2@acme.example",
    ]


def test_a_run_that_was_taken_over_stops_writing(db, session, customer, make_contact):
    campaign_id = _recorded(session, customer, _five(session, customer, make_contact))
    run_campaign_queueing(db.engine, campaign_id, LINKS, lambda: NOW, chunk=2, stop_after_chunks=1)
    with Session(db.engine, expire_on_commit=False) as silent:  # the run that went quiet
        stale = silent.get(Campaign, campaign_id)
        silent.commit()
        resume_campaign_queueing(session, LINKS, NOW + timedelta(minutes=3))  # another run
        with pytest.raises(LostClaim):
            queue_chunk(silent, stale, LINKS, NOW + timedelta(minutes=4), limit=2)
        silent.rollback()
    assert _written(session, campaign_id) == [f"p{i}@acme.example" for i in range(5)]


def test_a_long_account_name_cannot_make_the_subject_too_long_for_the_outbox():
    content = CampaignContent(CampaignTemplate.custom, "{account_name} " * 10, "x")
    filled = fill_account(content, "A very long account name\n" * 5)
    assert len(filled.subject) <= 300 and "\n" not in filled.subject


def test_a_confirmation_is_not_sent_to_an_address_that_opted_out_after_queueing(
    db, session, customer, make_contact, make_campaign, smtp_sink
):
    from requests_queue.jobs.runner import JobRunner
    from requests_queue.models import JobRun, OutboxState

    make_contact(customer, consent=True, email="ada@acme.example")
    make_contact(customer, consent=True, email="bob@acme.example")
    make_campaign(customer)
    # Queued hours ago; Ada unsubscribed (from another list's link) before her turn came.
    _set_status(session, customer, "ada@acme.example", S.opted_out_by_recipient)
    run_id = JobRunner(db.engine, clock=lambda: NOW, settings=smtp_sink.config()).run(
        "deliver_outbox"
    )
    assert smtp_sink.to("ada@acme.example") == [] and len(smtp_sink.to("bob@acme.example")) == 1
    session.expire_all()
    assert session.get(JobRun, run_id).counts["withdrawn"] == 1
    ada = session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.to_address == "ada@acme.example")
    )
    assert (ada.state, ada.last_error) == (OutboxState.failed, NOT_SENT)
