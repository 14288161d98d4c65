"""What a confirmation email says: the provided template, the customer's own, and their rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ValidationError
from ..models.campaigns import CampaignTemplate
from ..models.outbox import OutboxMessage
from .tokens import CONFIRM_MAX_AGE

CONFIRM = "{confirm_link}"
UNSUBSCRIBE = "{unsubscribe_link}"
ACCOUNT = "{account_name}"
PLACEHOLDERS = (CONFIRM, UNSUBSCRIBE, ACCOUNT)
SUBJECT_MAX = 200
SUBJECT_FILLED_MAX = OutboxMessage.__table__.c.subject.type.length  # the outbox's column
BODY_MAX = 20_000

PROVIDED_SUBJECT = "Please confirm you want to keep hearing from {account_name}"
# One paragraph per line: mail programs wrap plain text to the reader's screen.
PROVIDED_BODY = f"""Hello,

You are on the mailing list of {{account_name}}. Before we write to you again, we would like \
to be sure you still want our emails. Please confirm by opening this link:

{{confirm_link}}

The link works for {CONFIRM_MAX_AGE.days} days. If you do nothing, nothing else happens.

If you would rather not hear from us any more, unsubscribe here:
{{unsubscribe_link}}

Thank you,
{{account_name}}
"""

_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass(frozen=True)
class CampaignContent:
    """Subject and text of a campaign, placeholders still in them."""

    template: CampaignTemplate
    subject: str
    body: str


def provided_content() -> CampaignContent:
    """The template Consent Desk offers."""
    return CampaignContent(CampaignTemplate.provided, PROVIDED_SUBJECT, PROVIDED_BODY)


def check_content(content: CampaignContent) -> CampaignContent:
    """Normalise and check a campaign's subject and text; ValidationError names the field."""
    if content.template is CampaignTemplate.provided:
        return provided_content()
    subject = " ".join(content.subject.split())  # one line: a header cannot hold a break
    body = content.body.replace("\r\n", "\n").strip() + "\n"
    if not subject:
        raise ValidationError("subject", "write a subject")
    if len(subject) > SUBJECT_MAX:
        raise ValidationError("subject", f"use at most {SUBJECT_MAX} characters")
    if len(body) > BODY_MAX:
        raise ValidationError("body", f"use at most {BODY_MAX:,} characters")
    for field, text in (("subject", subject), ("body", body)):
        unknown = sorted(set(_PLACEHOLDER.findall(text)) - set(PLACEHOLDERS))
        if unknown:
            raise ValidationError(
                field,
                f"{', '.join(unknown)} is not a placeholder we fill in; "
                f"use {CONFIRM}, {UNSUBSCRIBE} or {ACCOUNT}",
            )
    if CONFIRM in subject or UNSUBSCRIBE in subject:
        raise ValidationError("subject", "links belong in the text, not in the subject")
    for placeholder, what in ((CONFIRM, "confirmation"), (UNSUBSCRIBE, "unsubscribe")):
        if placeholder not in body:
            raise ValidationError(
                "body", f"the text must contain {placeholder}, where the {what} link goes"
            )
    return CampaignContent(CampaignTemplate.custom, subject, body)


def fill_account(content: CampaignContent, account_name: str) -> CampaignContent:
    """The content with the account's name filled in (the same in every message).

    The subject stays one line and fits the outbox's column, as `outbox.queue_email` keeps
    every subject: a long account name in a long subject is cut, not a failed campaign.
    """
    subject = " ".join(content.subject.replace(ACCOUNT, account_name).split())
    return CampaignContent(
        content.template,
        subject[:SUBJECT_FILLED_MAX],
        content.body.replace(ACCOUNT, account_name),
    )


def render_body(body: str, confirm_url: str, unsubscribe_url: str) -> str:
    """One recipient's text, with their two links."""
    return body.replace(CONFIRM, confirm_url).replace(UNSUBSCRIBE, unsubscribe_url)


def render_preview(content: CampaignContent, account_name: str, base_url: str) -> tuple[str, str]:
    """(subject, text) as a recipient would read them, with stand-in links."""
    filled = fill_account(check_content(content), account_name)
    base = base_url.rstrip("/")
    text = render_body(
        filled.body,
        f"{base}/r/confirm/(personal link, valid {CONFIRM_MAX_AGE.days} days)",
        f"{base}/r/unsubscribe/(personal link)",
    )
    return filled.subject, text
