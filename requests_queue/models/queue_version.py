"""The queue's version: a number that grows with every committed change a queue page shows.

The agent queue is the page agents reload all day, and twenty agents see the same rows. A web
process keeps the pages it rendered (`support.agent.queue_cache`) and reuses one only while the
version it was rendered at is still the version now. Triggers keep the number, so no writer
can forget it: every statement that inserts, changes or deletes a request (its state, assignee,
stored SLA clock…), renames or removes an account, changes a support user's name, role, zone or
activity, or changes the team's calendar adds to it.

The version is `sum(n)` over `queue_version_bumps`, read in the reader's own snapshot, so it
counts exactly the changes committed before the read:
- PostgreSQL: a statement trigger appends a row (+1). Concurrent writers never wait on one
  counter row and cannot deadlock on it; the `tally_queue` job folds the appended rows into the
  row with id 0 in one statement, which leaves the sum as it was.
- SQLite: a row trigger adds 1 to row 0 (its one writer excludes every other).

A page reads the version before its data. Data read after the version can only be newer, and
a change newer than the version has bumped it, so a page kept under version v is exactly what
version v shows: a reader that still sees v finds it right, one that sees more renders anew.

The triggers are part of the schema: `create_all` makes them (below) and migration
`c4e8a2f6b913` made them, from a frozen copy of the same text that a test compares. A later
migration that rebuilds a watched table on SQLite (a batch alteration copies it) must make its
triggers again.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, made_with_schema

BASE_ROW = 0  # the folded sum; appended rows take ids from 1

# table -> the changes to it that a queue page shows (None: any insert, change or delete)
WATCHED: dict[str, tuple[str, ...] | None] = {
    "consent_requests": None,
    "accounts": ("name",),
    "users": ("email", "name", "role", "is_active", "time_zone", "account_id"),
    "calendar_settings": None,
    "calendar_hours": None,
    "calendar_holidays": None,
}


class QueueVersionBump(Base):
    """+n to the queue's version (row 0 holds the folded sum)."""

    __tablename__ = "queue_version_bumps"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)  # fmt: skip
    n: Mapped[int] = mapped_column(sa.BigInteger())


def _sqlite_triggers() -> tuple[str, ...]:
    bump = (
        "INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, "
        "COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1);"
    )
    out = []
    for table, columns in WATCHED.items():
        for event in ("INSERT", "DELETE", "UPDATE"):
            on = f"UPDATE OF {', '.join(columns)}" if event == "UPDATE" and columns else event
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS queue_version_{table}_{event.lower()} "
                f"AFTER {on} ON {table} BEGIN {bump} END"
            )
    return tuple(out)


def _postgresql_triggers() -> tuple[str, ...]:
    out = [
        "CREATE OR REPLACE FUNCTION queue_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO queue_version_bumps (n) VALUES (1); RETURN NULL; END $$"
    ]
    for table, columns in WATCHED.items():
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        out.append(
            f"CREATE OR REPLACE TRIGGER queue_version_{table} "
            f"AFTER INSERT OR {update} OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION queue_version_bump()"
        )
    return tuple(out)


SQLITE_TRIGGERS = _sqlite_triggers()
POSTGRESQL_TRIGGERS = _postgresql_triggers()


made_with_schema(POSTGRESQL_TRIGGERS, SQLITE_TRIGGERS)
