"""The queue's counts kept as they change: requests per (state, kind, account, assignee).

The agent queue shows a count beside every filter value. Grouping the open requests for them
read every open request on each page view (25,000 of 100,000 requests: about 16 ms of the
database's time a page on PostgreSQL, the largest part of the page). The database keeps them
instead, with triggers on `consent_requests`, so no writer can forget: every insert, delete
and change of state, kind, account or assignee appends +1 / -1 rows to `queue_tally_changes`
(an append-only log: concurrent writers never wait on one counter row, and cannot deadlock on
two). The `tally_queue` job folds the log into `queue_tally` every minute; a page reads both
in one statement (`requests_queue.requests.queue_tally`).

The triggers are part of the schema: `create_all` makes them (below) and migration
`f3a7c1e9b254` made them for migrated databases, from a frozen copy of the same text that a test
compares. A later migration that rebuilds `consent_requests` (an SQLite batch alteration copies
the table) must create them again.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, made_with_schema

NONE = 0  # the assignee key of unassigned requests (a key column cannot hold NULL)


class QueueTally(Base):
    """How many requests are in one (state, kind, account, assignee) group, as of the last fold
    (add the group's rows in `queue_tally_changes` for now)."""

    __tablename__ = "queue_tally"

    state: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    assignee_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int]


class QueueTallyChange(Base):
    """+n or -n requests in a group, written by the triggers, until the next fold."""

    __tablename__ = "queue_tally_changes"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)  # fmt: skip
    state: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(32))
    account_id: Mapped[int]
    assignee_key: Mapped[int]
    n: Mapped[int]


_GROUP = "state, kind, account_id, COALESCE(assignee_id, 0)"
_CHANGED = (
    "OLD.state IS DISTINCT FROM NEW.state OR OLD.kind IS DISTINCT FROM NEW.kind "
    "OR OLD.account_id IS DISTINCT FROM NEW.account_id "
    "OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id"
)
_INTO = "INSERT INTO queue_tally_changes (state, kind, account_id, assignee_key, n)"


def _row(which: str, n: int) -> str:
    return (
        f"{_INTO} VALUES ({which}.state, {which}.kind, {which}.account_id, "
        f"COALESCE({which}.assignee_id, 0), {n});"
    )


# SQLite: row triggers; an update writes only when it moves the request to another group.
SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS queue_tally_insert AFTER INSERT ON consent_requests "
    f"BEGIN {_row('NEW', 1)} END",
    "CREATE TRIGGER IF NOT EXISTS queue_tally_delete AFTER DELETE ON consent_requests "
    f"BEGIN {_row('OLD', -1)} END",
    "CREATE TRIGGER IF NOT EXISTS queue_tally_update "
    "AFTER UPDATE OF state, kind, account_id, assignee_id ON consent_requests "
    f"WHEN {_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} "
    f"BEGIN {_row('OLD', -1)} {_row('NEW', 1)} END",
)


def _net(*parts: tuple[str, int]) -> str:
    """One statement's net change per group, from its transition tables."""
    rows = " UNION ALL ".join(f"SELECT {_GROUP}, {n} FROM {table}" for table, n in parts)
    return (
        f"{_INTO} SELECT s, k, a, p, sum(d) FROM ({rows}) AS moved (s, k, a, p, d) "
        "GROUP BY s, k, a, p HAVING sum(d) <> 0;"
    )


def _pg_function(name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {body} RETURN NULL; END $$"
    )


def _pg_trigger(event: str, tables: str, function: str) -> str:
    return (
        f"CREATE OR REPLACE TRIGGER {function} AFTER {event} ON consent_requests "
        f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


# PostgreSQL: one trigger per statement, set-based over its transition tables, so a bulk
# change (an import of requests, a bulk assignment) writes one row per group it moved.
POSTGRESQL_TRIGGERS = (
    _pg_function("queue_tally_insert", _net(("added", 1))),
    _pg_function("queue_tally_delete", _net(("removed", -1))),
    _pg_function("queue_tally_update", _net(("before", -1), ("after", 1))),
    _pg_trigger("INSERT", "NEW TABLE AS added", "queue_tally_insert"),
    _pg_trigger("DELETE", "OLD TABLE AS removed", "queue_tally_delete"),
    _pg_trigger("UPDATE", "OLD TABLE AS before NEW TABLE AS after", "queue_tally_update"),
)


made_with_schema(POSTGRESQL_TRIGGERS, SQLITE_TRIGGERS)
