"""Every status write goes through here: one address at a time or set-based.

Each write checks the rule book in `statuses`, appends a `StatusEvent` in the same
transaction and flushes; the caller commits. Writers serialise per account with a row lock
on the account (PostgreSQL), so a set-based change never races a recipient's unsubscribe;
SQLite has a single writer anyway.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import InvalidTransition
from .mailbox import canonical_address
from .models import Account, Contact, EmailAddress, EmailField, StatusEvent
from .planner_stats import analyze_after_bulk
from .statuses import Actor, Cause, EmailStatus, allowed_sources, check_transition
from .webhooks import queueing as webhooks


def lock_account(session: Session, account_id: int) -> None:
    """Take the account's write lock until the transaction ends.

    PostgreSQL: a row lock on the account. SQLite has one writer for the whole database, but
    a transaction takes that lock only at its first write: a no-op write takes it now, so
    what the caller reads next cannot change before its own writes.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(Account.id).where(Account.id == account_id).with_for_update())
    else:
        session.execute(
            sa.update(Account)
            .where(Account.id == account_id)
            .values(name=Account.name)  # not the key: SQLite would check every child table
            .execution_options(synchronize_session=False)
        )


def _event_values(account_id: int, actor: Actor, now: datetime, cause: Cause) -> dict:
    return {
        "account_id": account_id,
        "created_at": now,
        "actor_kind": actor.kind,
        "actor_user_id": actor.user_id,
        "mass_action_id": cause.mass_action_id,
        "import_batch_id": cause.import_batch_id,
        "request_id": cause.request_id,
        "campaign_id": cause.campaign_id,
        "channel": actor.channel,
    }


def add_address(
    session: Session,
    contact: Contact,
    field: EmailField,
    address: str,
    status: EmailStatus,
    actor: Actor,
    now: datetime,
    cause: Cause = Cause(),
) -> EmailAddress:
    """Create an address on `contact` with its first status and the event that records it.

    `address` must be canonical (mailbox.check_address): the account's key for the mailbox.
    """
    if address != canonical_address(address):
        raise ValueError(f"not a canonical address: {address!r}")
    check_transition(None, status, actor, cause)
    row = EmailAddress(
        account_id=contact.account_id,
        field=field,
        address=address,
        status=status,
        status_changed_at=now,
    )
    contact.addresses.append(row)
    session.flush()
    session.add(
        StatusEvent(
            address_id=row.id,
            from_status=None,
            to_status=status,
            **_event_values(contact.account_id, actor, now, cause),
        )
    )
    session.flush()
    return row


def add_many(
    conn: sa.Connection,
    account_id: int,
    new_addresses: sa.TextualSelect | sa.Select,
    status: EmailStatus,
    actor: Actor,
    now: datetime,
    cause: Cause = Cause(),
    *,
    ids_above: int | None = None,
) -> None:
    """Set-based `add_address`: create every address `new_addresses` selects with its first
    status and the event that records it. The caller holds the account's write lock, commits.

    `new_addresses` has the columns contact_id, field, address (canonical) and typed_address;
    the rule book is asked once for all of them. PostgreSQL: one statement, the events made
    from the INSERT's RETURNING, the rows in address order so the inserts walk the (account,
    address) index in order. SQLite: two; the new addresses are those numbered above
    `ids_above`, the largest id before the INSERT (read under the write lock).
    """
    check_transition(None, status, actor, cause)
    new = new_addresses.subquery("new")
    select = sa.select(
        sa.literal(account_id, sa.Integer),
        new.c.contact_id,
        new.c.field,
        new.c.address,
        new.c.typed_address,
        sa.literal(status.value, sa.String),
        _literal("status_changed_at", now, EmailAddress),
    )
    columns = [
        "account_id", "contact_id", "field", "address", "typed_address", "status",
        "status_changed_at",
    ]  # fmt: skip
    first = sa.null()  # the status before a new address's first: none
    if conn.dialect.name == "postgresql":
        added = (
            sa.insert(EmailAddress)
            .from_select(columns, select.order_by(new.c.address))
            .returning(EmailAddress.id)
            .cte("added")
        )
        events = _events(added.c.id, first, status, "", account_id, actor, now, cause)
        conn.execute(events.add_cte(added))
        return
    if ids_above is None:
        raise ValueError("on SQLite, ids_above names the largest address id before the INSERT")
    conn.execute(sa.insert(EmailAddress).from_select(columns, select))
    since = EmailAddress.id > ids_above
    conn.execute(_events(EmailAddress.id, first, status, "", account_id, actor, now, cause, since))


def change_status(
    session: Session,
    address: EmailAddress,
    to: EmailStatus,
    actor: Actor,
    now: datetime,
    cause: Cause = Cause(),
    note: str = "",
    client_ip: str | None = None,
    user_agent: str | None = None,
) -> StatusEvent:
    """Move one address to `to` if the rules allow it; raise InvalidTransition otherwise.

    `client_ip` and `user_agent` are the recipient's browser's, kept on the event as proof.
    """
    lock_account(session, address.account_id)
    session.refresh(address, ["status"])  # decide on the committed status, not a stale one
    source = address.status
    check_transition(source, to, actor, cause)
    updated = session.execute(
        sa.update(EmailAddress)
        .where(EmailAddress.id == address.id, EmailAddress.status == source)
        .values(status=to, status_changed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if updated != 1:
        raise InvalidTransition("the address changed meanwhile; nothing was done")
    event = StatusEvent(
        address_id=address.id,
        from_status=source,
        to_status=to,
        note=note[:500],
        client_ip=client_ip[:45] if client_ip else None,
        user_agent=user_agent[:300] if user_agent else None,
        **_event_values(address.account_id, actor, now, cause),
    )
    session.add(event)
    session.flush()
    _mark_changed(session, address.account_id)
    webhooks.address_changed(session, address, source, to, actor, cause, now)
    session.expire(address, ["status", "status_changed_at"])
    return event


def change_many(
    session: Session,
    account_id: int,
    candidate_ids: sa.Select,
    to: EmailStatus,
    actor: Actor,
    now: datetime,
    cause: Cause = Cause(),
    only_from: frozenset[EmailStatus] | None = None,
    note: str | sa.ColumnElement[str] = "",
    analyze: bool = True,
) -> int:
    """Move every candidate address the rules allow to `to`, set-based; return how many moved.

    `candidate_ids` selects address ids; those whose status the rule book does not allow
    (narrowed further by `only_from`) are left alone. Two statements, whatever the count:
    one INSERT … SELECT of the events, one UPDATE. `note` is each event's note: a text, or an
    expression over `EmailAddress` naming a per-address cause (a provider's event id).
    A bulk move ANALYZEs the tables it wrote (`planner_stats`) unless `analyze` is False: a
    caller that moves a large selection in many chunks analyses once at its end instead.
    """
    sources = {s for s in allowed_sources(actor, to, cause) if s is not None}
    if only_from is not None:
        sources &= set(only_from)
    if not sources:
        raise InvalidTransition(f"a {actor.kind.title.lower()} cannot set {to.title.lower()} here")
    lock_account(session, account_id)
    eligible = sa.and_(
        EmailAddress.account_id == account_id,
        *_candidates(candidate_ids),
        EmailAddress.status.in_(sorted(sources)),
    )
    events = _events(
        EmailAddress.id, EmailAddress.status, to, note, account_id, actor, now, cause, eligible
    )
    # Before the events and the UPDATE, so it selects the very rows they do.
    webhooks.addresses_changing(session, account_id, eligible, to, actor, cause, now)
    session.execute(events)
    moved = session.execute(
        sa.update(EmailAddress)
        .where(eligible)
        .values(status=to, status_changed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved:
        _mark_changed(session, account_id)
    if analyze:
        analyze_after_bulk(session, ("email_addresses", "status_events"), moved)
    return moved


def _mark_changed(session: Session, account_id: int) -> None:
    """Note on the account (whose lock the writer holds) that its statuses changed up to the
    newest event id, so a reader can tell "nothing changed since event N" from one row
    instead of scanning the events (`requests.kept_eligibility`)."""
    session.execute(
        sa.update(Account)
        .where(Account.id == account_id)
        .values(status_changed_through=sa.select(sa.func.max(StatusEvent.id)).scalar_subquery())
        .execution_options(synchronize_session=False)
    )


def _candidates(candidate_ids: sa.Select) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses that keep the candidates among the account's addresses.

    Issue 11 §4: a candidate query over the address table itself (a mass opt-out's selection)
    is merged into the statement's own WHERE rather than nested as `id IN (SELECT id FROM
    email_addresses …)`. Nested, PostgreSQL guessed one row for a new account beside a large
    one and re-ran the whole selection for every address: the INSERT of a 200-address mass
    opt-out did not finish in 60 s. Other candidates (a request's frozen addresses) stay an IN.
    """
    (column,) = candidate_ids.selected_columns
    if candidate_ids.get_final_froms() == [EmailAddress.__table__] and column.compare(
        EmailAddress.__table__.c.id
    ):
        where = candidate_ids.whereclause
        return [] if where is None else [where]
    return [EmailAddress.id.in_(candidate_ids.scalar_subquery())]


def _events(
    address_id: sa.ColumnElement,
    from_status: sa.ColumnElement,
    to: EmailStatus,
    note: str | sa.ColumnElement[str],
    account_id: int,
    actor: Actor,
    now: datetime,
    cause: Cause,
    where: sa.ColumnElement[bool] | None = None,
) -> sa.Insert:
    """INSERT … SELECT of one StatusEvent per row (`where`): `address_id` moved from
    `from_status` to `to`, by `actor` for `cause`, with `note`."""
    values = _event_values(account_id, actor, now, cause)
    note_value = note if isinstance(note, sa.ColumnElement) else sa.literal(note[:500], sa.String)
    select = sa.select(
        address_id,
        from_status,
        sa.literal(to.value, sa.String),
        note_value,
        *[_literal(k, v) for k, v in values.items()],
    )
    if where is not None:
        select = select.where(where)
    columns = ["address_id", "from_status", "to_status", "note", *values]
    return sa.insert(StatusEvent).from_select(columns, select)


def _literal(key: str, value, model: type = StatusEvent):
    column = model.__table__.c[key]
    if value is None:
        return sa.null().label(key)
    return sa.literal(value, column.type).label(key)
