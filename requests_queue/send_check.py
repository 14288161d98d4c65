"""The send-time check: may these addresses be mailed now, since when, and why.

A sending pipeline asks before every batch, so the answer for up to `MAX_LOOKUP` addresses is
one indexed query: the account's unique (account, address) key finds each mailbox, and the
(address, id) index of the status events finds its latest event, the cause of its status.
Addresses are matched in their canonical form (rule 6), whatever spelling arrives.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from .errors import ValidationError
from .mailbox import MAX_ADDRESS, canonical_address
from .models import AddressMerge, EmailAddress, StatusEvent
from .statuses import MARKETABLE, ActorKind, EmailStatus

MAX_LOOKUP = 1000


@dataclass(frozen=True, slots=True)
class Cause:
    """Why an address has its status: its latest status event."""

    actor: ActorKind
    at: datetime
    kind: str  # request, mass_action, import, campaign, or manual
    id: int | None
    note: str


@dataclass(frozen=True, slots=True)
class AddressAnswer:
    """One address's answer; `status` is None when the account has no such address."""

    query: str
    address: str
    status: EmailStatus | None = None
    since: datetime | None = None
    why: Cause | None = None
    contact_id: int | None = None
    address_id: int | None = None

    @property
    def found(self) -> bool:
        """True when the account holds this mailbox."""
        return self.status is not None

    @property
    def marketable(self) -> bool:
        """True only for an address the account may send marketing email to now."""
        return self.status in MARKETABLE


STATUSES = {s.value: s for s in EmailStatus}
ACTORS = {a.value: a for a in ActorKind}


def _cause(actor_kind, at, request_id, mass_action_id, import_batch_id, campaign_id, note):
    """The cause named by a status event's columns (None: the address has no event)."""
    if actor_kind is None:
        return None
    if request_id is not None:
        kind, ident = "request", request_id
    elif mass_action_id is not None:
        kind, ident = "mass_action", mass_action_id
    elif import_batch_id is not None:
        kind, ident = "import", import_batch_id
    elif campaign_id is not None:
        kind, ident = "campaign", campaign_id
    else:
        kind, ident = "manual", None
    return Cause(ACTORS[actor_kind], at, kind, ident, note)


def _as_text(column) -> sa.ColumnElement:
    # Enums read as plain strings and mapped by a dict below: the ORM's per-row enum
    # processing would cost a sending pipeline's batch more than the query itself.
    return sa.type_coerce(column, sa.String).label(column.key)


EVENT_COLUMNS = (
    "actor_kind",
    "created_at",
    "request_id",
    "mass_action_id",
    "import_batch_id",
    "campaign_id",
    "note",
)


def _with_latest_event(dialect: str) -> tuple[sa.FromClause, list]:
    """Addresses outer-joined to each one's latest status event, and that event's columns.

    Both ways read one backward probe of the (address, id) index per address, whatever the
    account's size: PostgreSQL through LATERAL (given a subquery in the join condition, its
    planner may hash every event of the table instead), SQLite, which has no LATERAL and always
    runs nested loops, through the event whose id is the address's greatest.
    """
    if dialect == "postgresql":
        latest = (
            sa.select(*(getattr(StatusEvent, c) for c in EVENT_COLUMNS))
            .where(StatusEvent.address_id == EmailAddress.id)
            .order_by(StatusEvent.id.desc())
            .limit(1)
            .lateral("latest")
        )
        joined = sa.outerjoin(EmailAddress, latest, sa.true())
    else:
        latest = StatusEvent.__table__
        newest = (
            sa.select(sa.func.max(StatusEvent.id))
            .where(StatusEvent.address_id == EmailAddress.id)
            .correlate(EmailAddress)
            .scalar_subquery()
        )
        joined = sa.outerjoin(EmailAddress, latest, latest.c.id == newest)
    columns = [latest.c[c] for c in EVENT_COLUMNS]
    columns[0] = _as_text(columns[0])  # actor_kind
    columns[1] = columns[1].label("event_at")
    return joined, columns


def _one_of(dialect: str) -> sa.ColumnElement[bool]:
    """`address IN :wanted` with the list as one text parameter (an array literal on
    PostgreSQL, see `_array_literal`; a JSON array on SQLite): a thousand bound values cost
    the driver and SQLAlchemy more than the thousand index probes cost the database."""
    column = EmailAddress.address
    if dialect == "postgresql":
        wanted = sa.cast(sa.bindparam("wanted", type_=sa.String), ARRAY(sa.String))
        return column == sa.any_(wanted)
    listed = sa.select(sa.column("value", sa.String)).select_from(
        sa.func.json_each(sa.bindparam("wanted", type_=sa.String))
    )
    return column.in_(listed.scalar_subquery())


def _array_literal(texts: list[str]) -> str:
    """PostgreSQL's text form of a text[] (every element quoted, `\\` and `"` escaped): one
    string joined here costs less than psycopg adapting a list element by element."""
    quoted = (t.replace("\\", "\\\\").replace('"', '\\"') for t in texts)
    return "{" + ",".join(f'"{t}"' for t in quoted) + "}"


@functools.cache
def _lookup_statement(dialect: str) -> sa.Select:
    """The one query of a lookup, built once per database kind (:account, :wanted)."""
    joined, event_columns = _with_latest_event(dialect)
    return (
        sa.select(
            EmailAddress.id,
            EmailAddress.address,
            _as_text(EmailAddress.status),
            EmailAddress.status_changed_at,
            EmailAddress.contact_id,
            *event_columns,
        )
        .select_from(joined)
        .where(EmailAddress.account_id == sa.bindparam("account"), _one_of(dialect))
    )


def lookup_addresses(session: Session, account_id: int, raw: list[str]) -> list[AddressAnswer]:
    """The answer for each address, in the order given (one query whatever the count)."""
    if len(raw) > MAX_LOOKUP:
        raise ValidationError("addresses", f"ask about at most {MAX_LOOKUP} addresses at once")
    # Longer than any stored address: cannot match, and would only bloat the query.
    keys = [(text, canonical_address(text)[: MAX_ADDRESS + 1]) for text in raw]
    wanted = sorted({key for _, key in keys})
    dialect = session.get_bind().dialect.name
    # Core, not the ORM: plain rows, without the ORM's per-row loading layer.
    rows = session.connection().execute(
        _lookup_statement(dialect),
        {
            "account": account_id,
            "wanted": _array_literal(wanted) if dialect == "postgresql" else json.dumps(wanted),
        },
    )
    # (id, address, status, since, contact id, the latest event's seven columns) per row.
    found = {row[1]: row for row in rows}
    answers = []
    for text, key in keys:
        row = found.get(key)
        if row is None:
            answers.append(AddressAnswer(query=text, address=key))
            continue
        address_id, _, status, since, contact_id, *event = row
        answers.append(
            AddressAnswer(
                text, key, STATUSES[status], since, _cause(*event), contact_id, address_id
            )
        )
    return answers


def address_history(
    session: Session, address_id: int, before: int | None, limit: int
) -> list[StatusEvent]:
    """The address's status events newest first (rows merged into it included), `limit` of
    them from just before event `before`."""
    merged = sa.select(AddressMerge.merged_id).where(AddressMerge.survivor_id == address_id)
    query = sa.select(StatusEvent).where(
        sa.or_(StatusEvent.address_id == address_id, StatusEvent.address_id.in_(merged))
    )
    if before is not None:
        query = query.where(StatusEvent.id < before)
    return list(session.scalars(query.order_by(StatusEvent.id.desc()).limit(limit)))
