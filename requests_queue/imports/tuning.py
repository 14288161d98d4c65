"""Settings for an import run's own connection, and putting them back when the run ends.

SQLite gets a larger page cache, the stage in memory and no foreign-key or CHECK probes;
PostgreSQL no JIT, more work memory and larger temporary buffers. `tuned` applies them around
a run and leaves the connection as it found it (PostgreSQL: ended, so its buffers go).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from .scratch_tables import drop_stage

# SQLite's page cache for the run's connection. Measured at 1M rows: 20 to 160 MB make no
# difference (the OS caches the file), but each MB is resident memory (40 MB took the run
# past issue 11's 200 MB).
SQLITE_CACHE_KB = 20 * 1024
PG_TEMP_BUFFERS_MB = 64

# What the run's own connection changes, and why it may: see tuned.
_SQLITE_PRAGMAS = {
    "cache_size": -SQLITE_CACHE_KB,
    "temp_store": 2,  # the stage in memory
    "foreign_keys": 0,
    "ignore_check_constraints": 1,
}


# The JIT compiler judges the chunk's statements (50,000 rows) big enough to compile, then
# spends 1.4 s a chunk doing it, more than running them; a sort of a chunk's addresses
# needs more than the default 4 MB.
_PG_SETTINGS = {"jit": "off", "work_mem": "'64MB'"}


@contextmanager
def tuned(conn: sa.Connection) -> Iterator[None]:
    """Settings for the run's own connection, put back before it returns to the pool.

    SQLite: every row the run inserts references rows it read or wrote itself in the same
    transaction under SQLite's single write lock, and every value a CHECK constraint guards
    (status, field, actor kind) is a literal of its enum: the foreign-key probes and the
    CHECK (… IN (…)) lists cannot fail, yet cost about 2 µs a row each (SQLite 3.40), more
    than the inserts themselves. PostgreSQL: see _PG_SETTINGS and _enlarge_temp_buffers.
    """
    if conn.dialect.name == "postgresql":
        _enlarge_temp_buffers(conn)
        for name, value in _PG_SETTINGS.items():
            conn.exec_driver_sql(f"SET {name} = {value}")
        conn.commit()
        try:
            yield
        finally:
            _end(conn)
            # The session keeps its temporary buffers (up to 64 MB) until it ends: end it,
            # rather than hand it back to the pool. The next use connects afresh.
            conn.invalidate()
        return
    conn.commit()  # pragmas take effect only outside a transaction
    before = {k: conn.exec_driver_sql(f"PRAGMA {k}").scalar_one() for k in _SQLITE_PRAGMAS}
    for name, value in _SQLITE_PRAGMAS.items():
        conn.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        _end(conn)
        for name, value in before.items():
            conn.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
        conn.exec_driver_sql("PRAGMA shrink_memory")  # give the cache's memory back


def _end(conn: sa.Connection) -> None:
    # Whatever is not committed yet is a chunk that failed halfway: it must not be saved.
    conn.rollback()
    drop_stage(conn)
    conn.commit()


def _enlarge_temp_buffers(conn: sa.Connection) -> None:
    """Give the stage 64 MB of session buffers (8 MB by default) when the session allows it.

    PostgreSQL refuses the change once the session has used temporary tables with another
    size; then the run goes on with what there is.
    """
    conn.commit()
    try:
        conn.exec_driver_sql(f"SET temp_buffers = '{PG_TEMP_BUFFERS_MB}MB'")
        conn.commit()
    except sa.exc.DBAPIError:
        conn.rollback()
