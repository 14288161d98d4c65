"""The set-based half of an import: one chunk of parsed rows is staged, then a fixed number of
statements decides and writes everything for the whole chunk, whatever its size.

The stage holds one row per file row with its (up to) three addresses side by side. Matching
happens here, in SQL, against the account's unique (account, address) index, never in Python
memory. Outcomes per staged row: `new` (a contact is created), `match` (an existing contact is
updated, its statuses untouched), or a skip: `duplicate`, `conflict`, `taken`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..models import Contact, EmailAddress, StatusEvent, UTCDateTime
from ..statuses import Actor, EmailStatus

STAGE, TAGS = "import_stage_rows", "import_stage_tags"
FIELDS = ("email", "email2", "email3")
ROW_COLUMNS = (
    "line", "first_name", "last_name", "first_key", "last_key", "company", "phone",
    "e1", "e2", "e3",
)  # fmt: skip
# e<k>: the address of field k; a<k>/o<k>: the existing address's id and its contact;
# n<k>: the id given to a new address.
_DDL = {
    STAGE: "line INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, first_key TEXT, "
    "last_key TEXT, company TEXT, phone TEXT, e1 TEXT, e2 TEXT, e3 TEXT, "
    "a1 INTEGER, a2 INTEGER, a3 INTEGER, o1 INTEGER, o2 INTEGER, o3 INTEGER, "
    "n1 INTEGER, n2 INTEGER, n3 INTEGER, contact_id INTEGER, outcome TEXT",
    TAGS: "line INTEGER, name TEXT",
}
KEPT = "outcome IN ('new', 'match')"
SKIPS = ("duplicate", "conflict", "taken")


@dataclass
class ChunkData:
    """One chunk as Python parsed it: rows (ROW_COLUMNS) and their tags (line, name)."""

    rows: list[tuple]
    tags: list[tuple]


@dataclass(frozen=True)
class Run:
    """What every statement of a run needs to know."""

    account_id: int
    batch_id: int
    status: EmailStatus
    actor: Actor
    fields: tuple[int, ...]  # which of 1, 2, 3 (email, email2, email3) the file maps
    updates: tuple[str, ...]  # contact columns the file maps (empty cells never erase)
    tag_id: int | None


def create_stage(conn: sa.Connection) -> None:
    """Create the run's scratch tables (temporary: private to this connection)."""
    postgres = conn.dialect.name == "postgresql"
    suffix = " ON COMMIT DELETE ROWS" if postgres else ""
    for name, columns in _DDL.items():
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns}){suffix}")


def drop_stage(conn: sa.Connection) -> None:
    """Drop the scratch tables."""
    for name in _DDL:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def _load(conn: sa.Connection, data: ChunkData) -> None:
    """Put the chunk into the scratch tables: COPY on PostgreSQL, executemany on SQLite."""
    tables = ((STAGE, ROW_COLUMNS, data.rows), (TAGS, ("line", "name"), data.tags))
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        for name, columns, rows in tables:
            if rows:
                with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.exec_driver_sql(f"ANALYZE {STAGE}")
        return
    for name, columns, rows in tables:
        if rows:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})"
            conn.exec_driver_sql(sql, rows)


def clear_stage(conn: sa.Connection) -> None:
    """Empty the scratch tables (PostgreSQL empties them at commit by itself)."""
    if conn.dialect.name != "postgresql":
        for name in _DDL:
            conn.exec_driver_sql(f"DELETE FROM {name}")


def _columns(table: sa.Table, given: dict[str, str]) -> tuple[str, str, dict]:
    """Column list, SELECT list and parameters for an INSERT … SELECT into `table`.

    Columns not in `given` that have a scalar model default get it, so the INSERT stays
    right when such a column is added to the model later.
    """
    names, values, params = list(given), list(given.values()), {}
    for column in table.columns:
        default = column.default
        if column.name in given or column.primary_key:
            continue
        if default is not None and default.is_scalar:
            names.append(column.name)
            values.append(f":d_{column.name}")
            params[f"d_{column.name}"] = default.arg
    return ", ".join(names), ", ".join(values), params


def _x(conn: sa.Connection, sql: str, params: dict) -> sa.CursorResult:
    stmt = sa.text(sql)
    if ":now" in sql:
        stmt = stmt.bindparams(sa.bindparam("now", type_=UTCDateTime()))
    return conn.execute(stmt, params)


def _next_ids(
    conn: sa.Connection, table: str, column: str, where: str, p: dict, order: str = "line"
) -> None:
    """PostgreSQL: draw ids of `table` from its sequence for the staged rows matching `where`."""
    _x(conn, f"""
        UPDATE {STAGE} SET {column} = r.n
        FROM (SELECT line, nextval(pg_get_serial_sequence('{table}', 'id')) AS n
              FROM (SELECT line FROM {STAGE} WHERE {where} ORDER BY {order}) AS o) AS r
        WHERE {STAGE}.line = r.line""", p)  # fmt: skip


def _new_address(k: int) -> str:
    """SQL: field k of the staged row holds an address to create."""
    return f"e{k} IS NOT NULL AND a{k} IS NULL AND {KEPT}"


def _ids(conn: sa.Connection) -> tuple[str, str]:
    """SQL for a new contact's id and (with {k}) a new address's id, per staged row.

    SQLite: above the tables' largest ids as read under this transaction's write lock (the
    heartbeat UPDATE took it), numbered by line, so no statement is spent handing them out;
    unused numbers are gaps, as deleted rows leave. PostgreSQL: from the sequences, into
    the stage's contact_id and n<k>.
    """
    if conn.dialect.name == "postgresql":
        return "contact_id", "n{k}"
    return ":cbase + line - :l0", ":abase + (line - :l0 - 1) * 3 + {k}"


def _decide(conn: sa.Connection, run: Run, p: dict) -> None:
    """Resolve each staged address and give every staged row its outcome."""
    ks = run.fields
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        for k in ks:
            _x(conn, f"""
                UPDATE {STAGE} SET a{k} = ea.id, o{k} = ea.contact_id FROM email_addresses ea
                WHERE ea.account_id = :acc AND ea.address = {STAGE}.e{k}""", p)  # fmt: skip
    else:  # one pass over the stage, one index probe per address
        sets = ", ".join(
            f"(a{k}, o{k}) = (SELECT id, contact_id FROM email_addresses "
            f"WHERE account_id = :acc AND address = e{k})"
            for k in ks
        )
        _x(conn, f"UPDATE {STAGE} SET {sets}", p)
        p["cbase"] = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM contacts").scalar()
        p["abase"] = conn.exec_driver_sql(
            "SELECT COALESCE(MAX(id), 0) FROM email_addresses"
        ).scalar()
    owner = f"COALESCE({', '.join(f'o{k}' for k in ks)})" if len(ks) > 1 else f"o{ks[0]}"
    # Addresses of two different contacts: the row cannot say which contact it is.
    split = " OR ".join(
        f"(o{i} IS NOT NULL AND o{j} IS NOT NULL AND o{i} <> o{j})"
        for i in ks for j in ks if i < j
    ) or "1 = 0"  # fmt: skip
    new_id = "NULL" if postgres else _ids(conn)[0]
    _x(conn, f"""
        UPDATE {STAGE} SET contact_id = COALESCE({owner}, {new_id}),
            outcome = CASE WHEN {split} THEN 'conflict' WHEN {owner} IS NOT NULL THEN 'match'
                      ELSE 'new' END""", p)  # fmt: skip
    # A contact an earlier row of this file created or matched: the row repeats it.
    _x(conn, f"""
        UPDATE {STAGE} SET outcome = 'duplicate' WHERE outcome = 'match' AND (
            EXISTS (SELECT 1 FROM contacts c
                    WHERE c.id = {STAGE}.contact_id AND c.import_batch_id = :batch)
            OR EXISTS (SELECT 1 FROM import_matches im
                       WHERE im.batch_id = :batch AND im.contact_id = {STAGE}.contact_id)
            OR line NOT IN (SELECT MIN(line) FROM {STAGE} WHERE outcome = 'match'
                            GROUP BY contact_id))""", p)  # fmt: skip
    # A new address for a matched contact goes into its own field, only if that is free.
    taken = " OR ".join(
        f"(e{k} IS NOT NULL AND o{k} IS NULL AND EXISTS (SELECT 1 FROM email_addresses x "
        f"WHERE x.contact_id = {STAGE}.contact_id AND x.field = '{FIELDS[k - 1]}'))"
        for k in ks
    )
    _x(conn, f"UPDATE {STAGE} SET outcome = 'taken' WHERE outcome = 'match' AND ({taken})", p)
    if postgres:
        _next_ids(conn, "contacts", "contact_id", "outcome = 'new'", p)
        for k in ks:
            # In address order, so the inserts walk the (account, address) index in order.
            _next_ids(conn, "email_addresses", f"n{k}", _new_address(k), p, order=f"e{k}")


def _write(conn: sa.Connection, run: Run, p: dict) -> None:
    """Create contacts, update matched ones, attach addresses, write events and tags."""
    contact_id, address_id = _ids(conn)
    names, values, extra = _columns(Contact.__table__, {
        "id": contact_id, "account_id": ":acc", "first_name": "first_name",
        "last_name": "last_name", "first_name_key": "first_key", "last_name_key": "last_key",
        "company": "company", "phone": "phone", "import_batch_id": ":batch", "created_at": ":now",
    })  # fmt: skip
    _x(conn, f"INSERT INTO contacts ({names}) SELECT {values} FROM {STAGE} "
             "WHERE outcome = 'new'", {**p, **extra})  # fmt: skip
    if run.updates:
        source = {"first_name_key": "first_key", "last_name_key": "last_key"}
        sets, changed = [], []
        for column in run.updates:
            s = "s." + source.get(column, column)
            sets.append(f"{column} = CASE WHEN {s} <> '' THEN {s} ELSE contacts.{column} END")
            changed.append(f"({s} <> '' AND {s} <> contacts.{column})")
        _x(conn, f"""
            UPDATE contacts SET {", ".join(sets)} FROM {STAGE} AS s
            WHERE contacts.id = s.contact_id AND s.outcome = 'match'
              AND ({" OR ".join(changed)})""", p)  # fmt: skip
    _x(conn, f"INSERT INTO import_matches (batch_id, contact_id) "
             f"SELECT :batch, contact_id FROM {STAGE} WHERE outcome = 'match'", p)  # fmt: skip
    for k in run.fields:
        # A detached address (removed from its contact earlier) is re-attached, status kept.
        _x(conn, f"""
            UPDATE email_addresses SET contact_id = s.contact_id, field = '{FIELDS[k - 1]}'
            FROM {STAGE} AS s WHERE email_addresses.id = s.a{k} AND s.o{k} IS NULL
              AND s.{KEPT}""", p)  # fmt: skip
    parts = []
    for k in run.fields:
        names, values, extra = _columns(EmailAddress.__table__, {
            "id": address_id.format(k=k), "account_id": ":acc", "contact_id": "contact_id",
            "field": f"'{FIELDS[k - 1]}'", "address": f"e{k}", "status": ":status",
            "status_changed_at": ":now",
        })  # fmt: skip
        parts.append(f"SELECT {values} FROM {STAGE} WHERE {_new_address(k)}")
    # In address order, so the inserts walk the (account, address) index in order.
    _x(conn, f"INSERT INTO email_addresses ({names}) {' UNION ALL '.join(parts)} ORDER BY 5",
       {**p, **extra})  # fmt: skip
    # One creation event per new address, as status_changes.add_address writes it.
    parts = []
    for k in run.fields:
        names, values, extra = _columns(StatusEvent.__table__, {
            "account_id": ":acc", "address_id": address_id.format(k=k), "from_status": "NULL",
            "to_status": ":status", "created_at": ":now", "actor_kind": ":kind",
            "actor_user_id": ":uid", "import_batch_id": ":batch",
        })  # fmt: skip
        parts.append(f"SELECT {values} FROM {STAGE} WHERE {_new_address(k)}")
    _x(conn, f"INSERT INTO status_events ({names}) {' UNION ALL '.join(parts)}",
       {**p, **extra})  # fmt: skip
    _tags(conn, run, p)


def _tags(conn: sa.Connection, run: Run, p: dict) -> None:
    """The tags named in the file's tag column, and the batch's own tag, on kept rows."""
    _x(conn, f"""
        INSERT INTO tags (account_id, name)
        SELECT DISTINCT :acc, t.name FROM {TAGS} t JOIN {STAGE} r ON r.line = t.line
        WHERE r.{KEPT}
          AND NOT EXISTS (SELECT 1 FROM tags x WHERE x.account_id = :acc AND x.name = t.name)
        """, p)  # fmt: skip
    _x(conn, f"""
        INSERT INTO contact_tags (contact_id, tag_id)
        SELECT DISTINCT r.contact_id, x.id FROM {TAGS} t JOIN {STAGE} r ON r.line = t.line
        JOIN tags x ON x.account_id = :acc AND x.name = t.name
        WHERE r.{KEPT} AND NOT EXISTS (
            SELECT 1 FROM contact_tags ct WHERE ct.contact_id = r.contact_id AND ct.tag_id = x.id)
        """, p)  # fmt: skip
    if run.tag_id is not None:
        _x(conn, f"""
            INSERT INTO contact_tags (contact_id, tag_id)
            SELECT r.contact_id, :tag FROM {STAGE} r
            WHERE r.{KEPT} AND NOT EXISTS (
                SELECT 1 FROM contact_tags ct WHERE ct.contact_id = r.contact_id
                AND ct.tag_id = :tag)""", {**p, "tag": run.tag_id})  # fmt: skip


def import_chunk(
    conn: sa.Connection, run: Run, data: ChunkData, now: datetime
) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Stage, decide and write one chunk; return counts by outcome and the skipped (line, why).

    The caller has opened the transaction (and taken the account's write lock) and commits.
    """
    p = {
        "acc": run.account_id,
        "batch": run.batch_id,
        "now": now,
        "status": run.status.value,
        "kind": run.actor.kind.value,
        "uid": run.actor.user_id,
        "l0": data.rows[0][0] - 1 if data.rows else 0,
    }
    _load(conn, data)
    _decide(conn, run, p)
    _write(conn, run, p)
    counts = dict(
        conn.exec_driver_sql(f"SELECT outcome, COUNT(*) FROM {STAGE} GROUP BY outcome").all()
    )
    skipped = []
    if any(counts.get(s) for s in SKIPS):
        listed = ", ".join(f"'{s}'" for s in SKIPS)
        skipped = [
            tuple(r)
            for r in conn.exec_driver_sql(
                f"SELECT line, outcome FROM {STAGE} WHERE outcome IN ({listed}) ORDER BY line"
            )
        ]
    clear_stage(conn)
    return counts, skipped
