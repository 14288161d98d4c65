"""The run's scratch tables and how a parsed chunk gets into them, fast, on either database.

The stage holds one row per kept file row at its position `pos` (1, 2, … within the chunk),
with up to three addresses side by side. `x<k>` is what matching found for address k: the
contact that already owns it, minus the address's id when it exists detached from any contact,
or NULL when it is new to the account (one index probe answers all three).
"""

from __future__ import annotations

from itertools import chain

import sqlalchemy as sa

from .rows import Chunk

STAGE, TAGS, RAW = "import_stage_rows", "import_stage_tags", "import_stage_raw"
# e<k>: address k in canonical form; t<k>: as the file spelled it, "" when that is the same.
DATA = (
    *("first_name", "last_name", "first_key", "last_key", "company", "phone"),
    *("e1", "e2", "e3", "t1", "t2", "t3"),
)
_DATA = ", ".join(f"{c} TEXT" for c in DATA)
_DECIDED = "x1 INTEGER, x2 INTEGER, x3 INTEGER, contact_id INTEGER, outcome TEXT"
# SQLite: the chunk goes into the stage, pos is its rowid, and two UPDATEs decide. PostgreSQL:
# the chunk is copied into a raw table, and one INSERT … SELECT writes the decided stage (an
# UPDATE there writes a new version of every row: twice the work).
_DDL = {
    "sqlite": {
        STAGE: f"pos INTEGER PRIMARY KEY, {_DATA}, {_DECIDED}",
        TAGS: "pos INTEGER, name TEXT",
    },
    "postgresql": {
        RAW: f"pos INTEGER NOT NULL, {_DATA}",
        STAGE: f"pos INTEGER NOT NULL, {_DATA}, {_DECIDED}",
        TAGS: "pos INTEGER, name TEXT",
    },
}
EMAILS = ("e1", "e2", "e3")
# Rows per INSERT on SQLite (at most 32,766 parameters a statement); past ~50 it hardly matters.
_ROWS_PER_INSERT = 200


def probe(address: str, account: str) -> str:
    """SQL for x<k> of an address expression: owner, minus the detached address's id, or NULL."""
    return (
        f"CASE WHEN {address} <> '' THEN (SELECT COALESCE(contact_id, -id) FROM email_addresses "
        f"WHERE account_id = {account} AND address = {address}) END"
    )


def create_stage(conn: sa.Connection) -> None:
    """Create the run's scratch tables (temporary: private to this connection)."""
    postgres = conn.dialect.name == "postgresql"
    suffix = " ON COMMIT DELETE ROWS" if postgres else ""
    for name, columns in _DDL[conn.dialect.name].items():
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns}){suffix}")


def drop_stage(conn: sa.Connection) -> None:
    """Drop the scratch tables."""
    for name in (STAGE, TAGS, RAW):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def clear_stage(conn: sa.Connection) -> None:
    """Empty the scratch tables (PostgreSQL empties them at commit by itself)."""
    if conn.dialect.name != "postgresql":
        for name in (STAGE, TAGS):
            conn.exec_driver_sql(f"DELETE FROM {name}")


def load_chunk(conn: sa.Connection, chunk: Chunk) -> None:
    """Put the chunk into the stage: COPY on PostgreSQL (into RAW), multi-row INSERTs on SQLite."""
    if conn.dialect.name == "postgresql":
        positions = range(1, chunk.size + 1)
        _copy(conn, RAW, ["pos", *chunk.columns], [positions, *chunk.columns.values()])
        if chunk.tags:
            _copy(conn, TAGS, ["pos", "name"], list(zip(*chunk.tags, strict=True)))
        return
    _insert_rows(conn, chunk.columns)
    if chunk.tags:
        conn.exec_driver_sql(f"INSERT INTO {TAGS} (pos, name) VALUES (?, ?)", chunk.tags)


def _copy(conn: sa.Connection, table: str, names: list[str], columns: list) -> None:
    """COPY columns of values into `table`; as one block of text when no value needs escaping."""
    cursor = conn.connection.driver_connection.cursor()
    texts = [list(map(str, col)) if not isinstance(col[0], str) else col for col in columns]
    blob = "".join(chain.from_iterable(texts))
    with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        if not any(c in blob for c in "\t\n\r\\"):
            copy.write("\n".join(map("\t".join, zip(*texts, strict=True))) + "\n")
        else:
            for row in zip(*columns, strict=True):
                copy.write_row(row)


def _insert_rows(conn: sa.Connection, columns: dict[str, list[str]]) -> None:
    """SQLite: the stage rows, a few hundred per INSERT (a third of executemany's cost).

    A row's position is its rowid, given in order from 1 as the stage starts empty. The
    driver's own cursor, as for COPY: thousands of statements, no use for SQLAlchemy's layer.
    """
    cursor = conn.connection.driver_connection.cursor()
    names, values = list(columns), list(columns.values())
    width, total = len(names), len(values[0])
    insert = f"INSERT INTO {STAGE} ({', '.join(names)}) VALUES "
    row = f"({', '.join('?' * width)})"
    for start in range(0, total, _ROWS_PER_INSERT):
        count = min(_ROWS_PER_INSERT, total - start)
        flat: list = [None] * (count * width)
        for j, col in enumerate(values):
            flat[j::width] = col[start : start + count]
        cursor.execute(insert + ", ".join([row] * count), flat)
