"""Queue a double opt-in campaign: one outbox message per eligible address.

The eligible addresses are chosen by one SELECT. Each recipient needs its own signed links,
and an HMAC with the app's secret cannot be computed in SQL, so the recipient rows (address,
nonce, the two tokens) are built in a tight loop over plain tuples and written in chunks by
COPY (PostgreSQL) or executemany (SQLite); the messages are then written by one
INSERT … SELECT that puts each recipient's links into the text in SQL. 100,000 recipients
take a few seconds (bench/cases_campaigns.py). The customer's click only records the campaign
(`create_campaign`); `run_campaign_queueing` writes it in the background in chunks of
addresses, one transaction each, and sending is the sender's job, so no request waits for
either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..chunked import ChunkedRuns, LostClaim  # noqa: F401 (LostClaim: callers' name for it)
from ..errors import ValidationError
from ..models import Account, EmailAddress, EmailField, OutboxMessage, OutboxState
from ..models.campaigns import Campaign, CampaignRecipient, CampaignState
from ..now import now_utc
from ..selection import ContactFilter, describe, filter_to_json, stored_selection
from ..status_changes import lock_account
from ..statuses import Actor, ActorKind
from .content import CONFIRM, UNSUBSCRIBE, CampaignContent, check_content, fill_account
from .eligibility import eligible_conditions, preview_campaign
from .links import RecipientLinks
from .tokens import TokenClaims, new_nonce

KIND = "double_opt_in"
# Addresses per transaction of a background run (about half a second on SQLite), and how many
# are signed and written per bulk statement.
CHUNK = 10_000
SIGN_CHUNK = 2_000
_OUTBOX = OutboxMessage.__table__
_RECIPIENTS = CampaignRecipient.__table__


def create_campaign(
    session: Session,
    flt: ContactFilter,
    fields: tuple[EmailField, ...],
    content: CampaignContent,
    actor: Actor,
    now: datetime,
    expected_count: int | None = None,
) -> Campaign:
    """Record the campaign, its content and its frozen selection, to be queued; flush only.

    Quick whatever the selection's size (one grouped count): the customer's request returns
    at once and `queue_chunk` does the writing. `expected_count` is the number the customer
    saw in the preview: if the selection changed since, nothing is recorded and the error
    says so.
    """
    if actor.kind is not ActorKind.customer or actor.user_id is None:
        raise ValidationError(None, "only the account's own users send confirmations")
    content = check_content(content)
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
        selection_filter=filter_to_json(flt),
        fields=",".join(f.value for f in fields),
        template=content.template,
        subject=content.subject,
        body=content.body,
        skipped_count=before.skipped,
        skipped_by_reason=before.skipped_by_reason,
        expected_count=before.eligible,
        # Ids only grow: the addresses that existed at the click are those up to this one.
        last_address_id=session.scalar(sa.select(sa.func.max(EmailAddress.id))) or 0,
        state=CampaignState.queueing,
    )
    session.add(campaign)
    session.flush()
    return campaign


def campaign_filter(campaign: Campaign) -> tuple[ContactFilter, tuple[EmailField, ...]]:
    """The selection and fields the campaign was sent to, as chosen."""
    return stored_selection(campaign.account_id, campaign.selection_filter, campaign.fields)


def queue_chunk(
    session: Session, campaign: Campaign, links: RecipientLinks, now: datetime, limit: int = CHUNK
) -> bool:
    """Queue the next `limit` eligible addresses of the selection; flush only.

    Returns True when the campaign is fully queued. The selection is the one the customer
    previewed: addresses added after the click are not written to, and any that stopped
    being eligible meanwhile (an unsubscribe, a bounce) are left out. The addresses go in
    the order of the (account, status, contact, field) index, from a cursor on (contact,
    field), so each chunk reads only its own rows.
    """
    if campaign.state is not CampaignState.queueing:
        return True
    lock_account(session, campaign.account_id)
    RUNS.beat(session, campaign, now)
    flt, fields = campaign_filter(campaign)
    a, field = EmailAddress, sa.type_coerce(EmailAddress.field, sa.String)
    cursor = sa.tuple_(sa.literal(campaign.queued_through), sa.literal(campaign.queued_field))
    targets = session.execute(
        sa.select(a.id, a.address, a.contact_id, field)
        .where(
            *eligible_conditions(flt, fields, campaign.created_at),
            a.id <= campaign.last_address_id,
            sa.tuple_(a.contact_id, field) > cursor,
        )
        .order_by(a.contact_id, a.field)
        .limit(limit)
    ).all()
    values: dict = {}
    if targets:
        c = _RECIPIENTS.c
        before = session.scalar(sa.select(sa.func.max(c.id)).where(c.campaign_id == campaign.id))
        for start in range(0, len(targets), SIGN_CHUNK):
            rows = [(t[0], t[1]) for t in targets[start : start + SIGN_CHUNK]]
            _add_recipients(session, campaign, rows, links, now)
        account_name = session.get(Account, campaign.account_id).name
        content = CampaignContent(campaign.template, campaign.subject, campaign.body)
        filled = fill_account(content, account_name)
        _write_messages(session, campaign, filled, links, now, after=before or 0)
        values = {
            "recipient_count": Campaign.recipient_count + len(targets),
            "queued_through": targets[-1][2],
            "queued_field": targets[-1][3],
        }
    done = len(targets) < limit
    if done:
        values["state"] = CampaignState.queued
    if values:
        session.execute(
            sa.update(Campaign)
            .where(Campaign.id == campaign.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    session.refresh(campaign)
    return done


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


def _write_messages(session, campaign, content, links: RecipientLinks, now, after: int) -> None:
    """One INSERT … SELECT: the message of each of the campaign's recipients written after
    recipient id `after`, their links put into the text in SQL."""
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
            sa.select(*columns.values())
            .where(r.campaign_id == campaign.id, r.id > after)
            .order_by(r.id),
        )
    )


RUNS = ChunkedRuns(
    Campaign,
    working=CampaignState.queueing,
    failed=CampaignState.failed,
    kind="campaign",
    failure="Preparing the emails stopped because of an internal error; what was queued is sent.",
)
STALE_AFTER = RUNS.stale_after


def is_stalled(campaign: Campaign, now: datetime) -> bool:
    """Still being queued, but its run has been silent for STALE_AFTER (it is resumed)."""
    return RUNS.is_stalled(campaign, now)


def run_campaign_queueing(
    engine: sa.Engine,
    campaign_id: int,
    links: RecipientLinks,
    clock: Callable[[], datetime] = now_utc,
    chunk: int = CHUNK,
    stop_after_chunks: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> CampaignState | None:
    """Queue the campaign to its end, a committed chunk at a time (`chunked.ChunkedRuns`); its
    final state, or None when another run holds it. A run that raises leaves the campaign
    `failed` with the reason, and what was queued stays queued (and is sent)."""

    def step(session: Session, campaign: Campaign, now: datetime) -> bool:
        return queue_chunk(session, campaign, links, now, limit=chunk)

    return RUNS.run(engine, campaign_id, step, clock, stop_after_chunks, should_stop)


def resume_campaign_queueing(
    session: Session,
    links: RecipientLinks,
    now: datetime,
    should_stop: Callable[[], bool] | None = None,
) -> list[tuple[int, CampaignState | None]]:
    """Resume every campaign whose queueing run died; (campaign id, final state) each."""
    engine = session.get_bind()

    def run_one(cid: int):
        return run_campaign_queueing(engine, cid, links, should_stop=should_stop)

    return RUNS.resume(session, now, run_one, should_stop)
