"""Reading and folding the queue's version (`models.queue_version`: the triggers keep it)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models.queue_version import BASE_ROW, QueueVersionBump

V = QueueVersionBump.__table__.c
# Built once: a page reads it on every view.
CURRENT = sa.select(sa.func.coalesce(sa.func.sum(V.n), 0))
# With it, whether this transaction has written anything (it has an id only once it writes).
CURRENT_IF_CLEAN = sa.select(
    sa.func.coalesce(sa.func.sum(V.n), 0), sa.func.pg_current_xact_id_if_assigned().is_(None)
)


def current(session: Session) -> int:
    """The queue's version as this session's snapshot sees it: read it before the data a page
    keeps under it."""
    return int(session.scalar(CURRENT))


def is_clean(session: Session) -> bool:
    """Whether this session's transaction has written nothing yet."""
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.scalar(sa.select(sa.func.pg_current_xact_id_if_assigned().is_(None))))
    return not session.connection().connection.dbapi_connection.in_transaction


def current_if_clean(session: Session) -> int | None:
    """The version, or None when this session's transaction has written: what it reads then
    includes its own uncommitted changes, which a rollback would make a version never show."""
    if session.get_bind().dialect.name == "postgresql":
        version, clean = session.execute(CURRENT_IF_CLEAN).one()
        return int(version) if clean else None
    version = current(session)  # pysqlite begins a transaction only to write
    return version if is_clean(session) else None


def fold(session: Session) -> int:
    """Move the appended bumps into row 0 without changing the sum; how many rows it folded.

    PostgreSQL: one statement deletes the rows its snapshot sees and adds exactly those (a bump
    committed later stays for the next fold), so every reader sees the same sum before and
    after. SQLite's triggers write row 0 alone: nothing to fold."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    return int(
        session.scalar(
            sa.text(
                "WITH moved AS (DELETE FROM queue_version_bumps WHERE id <> :base RETURNING n), "
                "added AS (INSERT INTO queue_version_bumps AS v (id, n) "
                "SELECT :base, sum(n) FROM moved HAVING count(*) > 0 "
                "ON CONFLICT (id) DO UPDATE SET n = v.n + excluded.n) "
                "SELECT count(*) FROM moved"
            ),
            {"base": BASE_ROW},
        )
        or 0
    )
