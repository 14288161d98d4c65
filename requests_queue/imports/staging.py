"""The set-based half of an import: once a chunk is staged (see `scratch_tables`), a fixed number of
statements decides and writes everything for the whole chunk, whatever its size.

Matching happens in SQL, against the account's unique (account, address) index, never in
Python memory. A staged row's outcome: NULL while it is new (a contact is created), `match` (an
existing contact is updated, its statuses untouched), or a skip: `duplicate`, `conflict`,
`taken`. Statements with nothing to do in a chunk (no matched rows, no detached addresses,
no tags) are not sent at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..models import Contact, UTCDateTime
from ..status_changes import add_many
from ..statuses import Actor, Cause, EmailStatus
from .rows import Chunk
from .scratch_tables import DATA, RAW, STAGE, TAGS, clear_stage, load_chunk, probe

FIELDS = ("email", "email2", "email3")
SKIPS = ("duplicate", "conflict", "taken")
_NAME_COLUMNS = ("first_name", "last_name", "company", "phone")
_KEY_OF = {"first_name_key": "first_name", "last_name_key": "last_name"}


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


def _text(sql: str, params: dict) -> sa.TextClause:
    """`sql` with the parameters it names bound, to be part of a larger statement."""
    return sa.text(sql).bindparams(**{k: v for k, v in params.items() if f":{k}" in sql})


def _kept(alias: str = "") -> str:
    """SQL: the staged row is imported (new or matched), not skipped."""
    return f"COALESCE({alias}outcome, 'match') = 'match'"


def _cid(postgres: bool, alias: str = "") -> str:
    """SQL for the staged row's contact id.

    SQLite numbers new contacts above the largest id, read under the write lock, by position;
    PostgreSQL drew them from the sequence in `_decide`.
    """
    return f"{alias}contact_id" if postgres else f"COALESCE({alias}contact_id, :cbase + {alias}pos)"


def _source(column: str, alias: str = "") -> str:
    """SQL for a contact column's value in a staged row ('' when the file does not map it)."""
    if column in _KEY_OF:  # the lower-cased name: from Python only where it is not ASCII
        key = "first_key" if column == "first_name_key" else "last_key"
        return f"COALESCE({alias}{key}, lower({alias}{_KEY_OF[column]}))"
    return f"{alias}{column}"


def _decide(conn: sa.Connection, run: Run, p: dict) -> int:
    """Match the staged addresses, give each row its contact and outcome.

    Returns how many rows found an existing contact (matched, or skipped for it).
    """
    ks = run.fields
    postgres = conn.dialect.name == "postgresql"
    if not postgres:
        probes = ", ".join(f"x{k} = {probe(f'e{k}', ':acc')}" for k in ks)
        _x(conn, f"UPDATE {STAGE} SET {probes}", p)
    # PostgreSQL: every name below is a column of q (see the end), the raw rows and probes.
    table = "q" if postgres else STAGE
    owners = [f"CASE WHEN x{k} > 0 THEN x{k} END" for k in ks]
    owner = f"COALESCE({', '.join(owners)})" if len(ks) > 1 else owners[0]
    # Addresses of two different contacts: the row cannot say which contact it is. (Never
    # NULL, as NOT (…) of it must hold for every other row.)
    split = " OR ".join(
        f"(COALESCE(x{i}, 0) > 0 AND COALESCE(x{j}, 0) > 0 AND x{i} <> x{j})"
        for i in ks for j in ks if i < j
    ) or "1 = 0"  # fmt: skip
    # A contact an earlier row of this file created or matched: the row repeats it. (Scalar
    # subqueries, one index probe per row: PostgreSQL would turn EXISTS into a hash of all
    # the batch's contacts so far, rebuilt every chunk.)
    repeat = f"""((SELECT c.import_batch_id FROM contacts c WHERE c.id = {owner}) = :batch
        OR (SELECT im.contact_id FROM import_matches im
            WHERE im.batch_id = :batch AND im.contact_id = {owner}) IS NOT NULL
        OR pos NOT IN (SELECT MIN(pos) FROM {table}
                       WHERE {owner} IS NOT NULL AND NOT ({split}) GROUP BY {owner}))"""
    # A new address for a matched contact goes into its own field, and only if that is free.
    taken = " OR ".join(
        f"(e{k} <> '' AND (x{k} IS NULL OR x{k} < 0) AND (SELECT 1 FROM email_addresses f "
        f"WHERE f.contact_id = {owner} AND f.field = '{FIELDS[k - 1]}') IS NOT NULL)"
        for k in ks
    )
    outcome = f"""CASE WHEN {split} THEN 'conflict' WHEN {repeat} THEN 'duplicate'
                       WHEN {taken} THEN 'taken' ELSE 'match' END"""
    if postgres:  # new contacts' ids from the sequence
        # Named once: pg_get_serial_sequence in the SELECT list would run for every row.
        seq = conn.exec_driver_sql("SELECT pg_get_serial_sequence('contacts', 'id')").scalar()
        seq = seq.replace("'", "''")
        data = ", ".join(DATA)
        probes = ", ".join(f"{probe(f'e{k}', ':acc')} AS x{k}" for k in ks)
        xs = ", ".join(f"x{k}" for k in ks)
        return _x(conn, f"""
            WITH q AS MATERIALIZED (SELECT pos, {data}, {probes} FROM {RAW}),
            d AS (
                INSERT INTO {STAGE} (pos, {data}, {xs}, contact_id, outcome)
                SELECT pos, {data}, {xs},
                    COALESCE({owner}, nextval('{seq}')),
                    CASE WHEN {owner} IS NOT NULL THEN {outcome} END
                FROM q ORDER BY pos
                RETURNING outcome)
            SELECT COUNT(outcome) FROM d""", p).scalar_one()  # fmt: skip
    return _x(conn, f"""
        UPDATE {STAGE} SET contact_id = {owner}, outcome = {outcome}
        WHERE {owner} IS NOT NULL""", p).rowcount  # fmt: skip


def _update_matched(conn: sa.Connection, run: Run, p: dict) -> int:
    """Fill matched contacts' mapped fields from non-empty cells; link them to the batch."""
    if run.updates:
        sets, changed = [], []
        for column in run.updates:
            s = _source(column, "s.")
            sets.append(f"{column} = CASE WHEN {s} <> '' THEN {s} ELSE contacts.{column} END")
            changed.append(f"({s} <> '' AND {s} <> contacts.{column})")
        _x(conn, f"""
            UPDATE contacts SET {", ".join(sets)} FROM {STAGE} AS s
            WHERE contacts.id = s.contact_id AND s.outcome = 'match'
              AND ({" OR ".join(changed)})""", p)  # fmt: skip
    return _x(conn, f"INSERT INTO import_matches (batch_id, contact_id) "
                    f"SELECT :batch, contact_id FROM {STAGE} WHERE outcome = 'match'",
              p).rowcount  # fmt: skip


def _write(conn: sa.Connection, run: Run, p: dict, matched: int) -> tuple[int, int]:
    """Create contacts, update matched ones, attach addresses (new ones with their events).

    Returns how many contacts were created and how many matched ones were updated.
    """
    postgres = conn.dialect.name == "postgresql"
    cid = _cid(postgres)
    names = {c: (_source(c) if c in run.updates else "''") for c in _NAME_COLUMNS}
    keys = {k: (_source(k) if k in run.updates else "''") for k in _KEY_OF}
    columns, values, extra = _columns(Contact.__table__, {
        "id": cid, "account_id": ":acc", **names, **keys, "import_batch_id": ":batch",
        "created_at": ":now",
    })  # fmt: skip
    created = _x(conn, f"INSERT INTO contacts ({columns}) SELECT {values} FROM {STAGE} "
                       "WHERE outcome IS NULL", {**p, **extra}).rowcount  # fmt: skip
    updated = _update_matched(conn, run, p) if matched else 0
    detached = " OR ".join(f"x{k} < 0" for k in run.fields)
    if conn.exec_driver_sql(f"SELECT 1 FROM {STAGE} WHERE {detached} LIMIT 1").first():
        for k in run.fields:  # re-attached where it was removed, status and history kept
            _x(conn, f"""
                UPDATE email_addresses SET contact_id = {_cid(postgres, "s.")},
                    field = '{FIELDS[k - 1]}'
                FROM {STAGE} AS s WHERE email_addresses.id = -s.x{k} AND s.x{k} < 0
                  AND {_kept("s.")}""", p)  # fmt: skip
    # New addresses with their first status and its event, as every status write: set-based
    # through status_changes (the rule book asked once for the chunk).
    new = " UNION ALL ".join(
        f"SELECT {cid} AS contact_id, '{FIELDS[k - 1]}' AS field, e{k} AS address, "
        f"NULLIF(t{k}, '') AS typed_address FROM {STAGE} "
        f"WHERE e{k} <> '' AND x{k} IS NULL AND {_kept()}"
        for k in run.fields
    )
    new_addresses = _text(new, p).columns(
        contact_id=sa.Integer, field=sa.String, address=sa.String, typed_address=sa.String
    )
    cause = Cause(import_batch_id=run.batch_id)
    add_many(conn, run.account_id, new_addresses, run.status, run.actor, p["now"], cause,
             ids_above=p.get("abase"))  # fmt: skip
    return created, updated


def _tags(conn: sa.Connection, run: Run, p: dict, any_tags: bool) -> None:
    """The tags named in the file's tag column, and the batch's own tag, on kept rows."""
    if any_tags:
        _x(conn, f"""
            INSERT INTO tags (account_id, name)
            SELECT DISTINCT :acc, t.name FROM {TAGS} t JOIN {STAGE} r ON r.pos = t.pos
            WHERE {_kept("r.")} AND NOT EXISTS (
                SELECT 1 FROM tags x WHERE x.account_id = :acc AND x.name = t.name)
            """, p)  # fmt: skip
        _x(conn, f"""
            INSERT INTO contact_tags (contact_id, tag_id)
            SELECT DISTINCT r.contact_id, x.id FROM {TAGS} t JOIN {STAGE} r ON r.pos = t.pos
            JOIN tags x ON x.account_id = :acc AND x.name = t.name
            WHERE {_kept("r.")} AND NOT EXISTS (SELECT 1 FROM contact_tags ct
                WHERE ct.contact_id = r.contact_id AND ct.tag_id = x.id)
            """, p)  # fmt: skip
    if run.tag_id is not None:
        _x(conn, f"""
            INSERT INTO contact_tags (contact_id, tag_id)
            SELECT r.contact_id, :tag FROM {STAGE} r
            WHERE {_kept("r.")} AND NOT EXISTS (
                SELECT 1 FROM contact_tags ct WHERE ct.contact_id = r.contact_id
                AND ct.tag_id = :tag)""", {**p, "tag": run.tag_id})  # fmt: skip


def stage_chunk(conn: sa.Connection, run: Run, chunk: Chunk, now: datetime) -> dict:
    """Load the chunk into the stage; return the parameters `write_chunk` needs.

    The caller has opened the transaction (and taken the account's write lock).
    """
    p = {
        "acc": run.account_id,
        "batch": run.batch_id,
        "now": now,
    }
    if conn.dialect.name == "sqlite":
        p["cbase"] = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM contacts").scalar()
        p["abase"] = conn.exec_driver_sql(
            "SELECT COALESCE(MAX(id), 0) FROM email_addresses"
        ).scalar()
    if chunk.size:
        load_chunk(conn, chunk)
    return p


def write_chunk(
    conn: sa.Connection, run: Run, chunk: Chunk, p: dict
) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Decide and write the staged chunk; return counts by outcome and the skipped (pos, why).

    The caller commits.
    """
    if not chunk.size:
        return {}, []
    matched = _decide(conn, run, p)
    created, updated = _write(conn, run, p, matched)
    if chunk.tags or run.tag_id is not None:
        # Tags only need new contacts' ids, which SQLite leaves implicit until here.
        if conn.dialect.name == "sqlite":
            _x(conn, f"UPDATE {STAGE} SET contact_id = :cbase + pos WHERE outcome IS NULL", p)
        _tags(conn, run, p, bool(chunk.tags))
    skipped = []
    if matched:
        listed = ", ".join(f"'{s}'" for s in SKIPS)
        skipped = [
            tuple(r)
            for r in conn.exec_driver_sql(
                f"SELECT pos, outcome FROM {STAGE} WHERE outcome IN ({listed}) ORDER BY pos"
            )
        ]
    clear_stage(conn)
    return {"new": created, "match": updated}, skipped
