"""Queue a double opt-in campaign: one outbox message per eligible address, in one transaction.

The eligible addresses are chosen by one SELECT. Each recipient needs its own signed links,
and an HMAC with the app's secret cannot be computed in SQL, so the recipient rows (address,
nonce, the two tokens) are built in a tight loop over plain tuples and written in chunks by
COPY (PostgreSQL) or executemany (SQLite); the messages are then written by one
INSERT … SELECT that puts each recipient's links into the text in SQL. 100,000 recipients
take a few seconds (bench/cases_campaigns.py); sending is the sender's job, so the request
that queues never waits for SMTP.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..models import Account, EmailAddress, EmailField, OutboxMessage, OutboxState
from ..models.campaigns import Campaign, CampaignRecipient
from ..selection import ContactFilter, describe
from ..status_changes import lock_account
from ..statuses import Actor, ActorKind
from .content import CONFIRM, UNSUBSCRIBE, CampaignContent, check_content, fill_account
from .eligibility import eligible_conditions, preview_campaign
from .links import RecipientLinks
from .tokens import TokenClaims, new_nonce

KIND = "double_opt_in"
CHUNK = 2_000
_OUTBOX = OutboxMessage.__table__
_RECIPIENTS = CampaignRecipient.__table__


def queue_campaign(
    session: Session,
    flt: ContactFilter,
    fields: tuple[EmailField, ...],
    content: CampaignContent,
    actor: Actor,
    now: datetime,
    links: RecipientLinks,
    expected_count: int | None = None,
) -> Campaign:
    """Create the campaign and queue a confirmation to every eligible address; flush only.

    `expected_count` is the number the customer saw in the preview: if the selection changed
    since, nothing is queued and the error says so.
    """
    if actor.kind is not ActorKind.customer or actor.user_id is None:
        raise ValidationError(None, "only the account's own users send confirmations")
    content = check_content(content)
    lock_account(session, flt.account_id)
    before = preview_campaign(session, flt, fields, now)
    if before.eligible == 0:
        raise ValidationError(None, "no address in this selection can get a confirmation")
    if expected_count is not None and expected_count != before.eligible:
        raise ValidationError(
            None,
            f"the selection changed since the preview: {before.eligible:,} addresses are "
            "eligible now. Check the preview and send again.",
        )
    campaign = Campaign(
        account_id=flt.account_id,
        user_id=actor.user_id,
        created_at=now,
        selection=describe(session, flt)[:500],
        fields=",".join(f.value for f in fields),
        template=content.template,
        subject=content.subject,
        body=content.body,
        skipped_count=before.skipped,
        skipped_by_reason=before.skipped_by_reason,
    )
    session.add(campaign)
    session.flush()
    account_name = session.get(Account, flt.account_id).name
    targets = session.execute(
        sa.select(EmailAddress.id, EmailAddress.address)
        .where(*eligible_conditions(flt, fields, now))
        .order_by(EmailAddress.id)
    ).all()
    for start in range(0, len(targets), CHUNK):
        _add_recipients(session, campaign, targets[start : start + CHUNK], links, now)
    _write_messages(session, campaign, fill_account(content, account_name), links, now)
    campaign.recipient_count = len(targets)
    session.flush()
    return campaign


_RECIPIENT_COLUMNS = (
    "campaign_id",
    "created_at",
    "address_id",
    "address",
    "token_nonce",
    "confirm_token",
    "unsubscribe_token",
)


def _add_recipients(session, campaign, targets, links, now) -> None:
    """Sign each recipient's links and write the rows in one bulk statement per chunk."""
    created = _db_value(session, _RECIPIENTS.c.created_at, now)
    rows = []
    for address_id, address in targets:
        nonce = new_nonce()
        claims = TokenClaims(campaign.id, address_id, nonce)
        confirm, unsubscribe = links.tokens(claims, address, now)
        rows.append((campaign.id, created, address_id, address, nonce, confirm, unsubscribe))
    _bulk_insert(session, _RECIPIENTS, _RECIPIENT_COLUMNS, rows)


def _db_value(session, column: sa.Column, value):
    """`value` as the driver takes it for `column` (our UTC handling included)."""
    process = column.type.bind_processor(session.get_bind().dialect)
    return process(value) if process else value


def _bulk_insert(session, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Plain rows of driver-ready values, written the fastest way each database offers.

    Per-row parameter handling in SQLAlchemy costs more than the insert itself here, and
    PostgreSQL pays a round trip per row even pipelined; COPY and sqlite3's executemany are
    the floor. Only rows we built ourselves from typed values come through here.
    """
    connection = session.connection()
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join(mark for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)


def _link(template: str, token: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """`template` (a URL with "{token}") with the token column put in, as SQL."""
    before, _, after = template.partition("{token}")
    return sa.literal(before) + token + sa.literal(after)


def _write_messages(session, campaign, content, links: RecipientLinks, now) -> None:
    """One INSERT … SELECT: every recipient's message, its links put into the text in SQL."""
    r = _RECIPIENTS.c
    body = sa.func.replace(
        sa.func.replace(
            sa.literal(content.body), CONFIRM, _link(links.confirm_url("{token}"), r.confirm_token)
        ),
        UNSUBSCRIBE,
        _link(links.unsubscribe_url("{token}"), r.unsubscribe_token),
    )
    # The same JSON as RecipientLinks.headers(), spelled in SQL; the URL is JSON-escaped.
    header = json.dumps(links.headers("{token}"))
    headers = _link(header, r.unsubscribe_token)
    if session.get_bind().dialect.name == "postgresql":
        headers = sa.cast(headers, _OUTBOX.c.headers.type)
    else:  # SQLite keeps JSON as text; a CAST would turn it into a number
        headers = sa.type_coerce(headers, _OUTBOX.c.headers.type)
    columns = {
        "account_id": sa.literal(campaign.account_id),
        "user_id": sa.literal(campaign.user_id),
        "campaign_id": r.campaign_id,
        "kind": sa.literal(KIND),
        "to_address": r.address,
        "subject": sa.literal(content.subject),
        "body_text": body,
        "headers": headers,
        "state": sa.literal(OutboxState.pending, _OUTBOX.c.state.type),
        "attempts": sa.literal(0),
        "next_attempt_at": sa.literal(now, _OUTBOX.c.next_attempt_at.type),
        "last_error": sa.literal(""),
        "created_at": sa.literal(now, _OUTBOX.c.created_at.type),
    }
    session.execute(
        sa.insert(_OUTBOX).from_select(
            list(columns),
            sa.select(*columns.values()).where(r.campaign_id == campaign.id).order_by(r.id),
        )
    )
