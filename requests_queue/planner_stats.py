"""Fresh planner statistics after a bulk write (issue 11 §4), PostgreSQL only.

Autovacuum analyses a table once a tenth of it changed: beside an account of a million
addresses, a new account's import of 100,000 is invisible to the planner until then, and it
plans for that account as if it held one row. After a bulk write the writer analyses the
tables it wrote itself. Below `BULK_ROWS` it does not: analysing a million-row table costs
about a second, more than the write, and the statements are shaped not to depend on the guess
(selection.address_conditions, status_changes.change_many).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

BULK_ROWS = 10_000


def analyze_after_bulk(
    db: sa.Connection | Session, tables: Iterable[str], rows: int | None
) -> bool:
    """ANALYZE `tables` when `rows` rows were just written on PostgreSQL; return whether it did.

    Inside the caller's transaction: the statistics count its own uncommitted rows, and go
    back with them if it rolls back.
    """
    dialect = db.dialect if isinstance(db, sa.Connection) else db.get_bind().dialect
    if rows is None or rows < BULK_ROWS or dialect.name != "postgresql":
        return False
    for table in tables:
        db.execute(sa.text(f"ANALYZE {table}"))
    return True
