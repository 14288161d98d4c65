"""The two migrations that take the import's per-row foreign keys away (issue 11 §3):
`b7d3e5f1a926` drops `import_matches`' keys and its contact index, `d9f2a4c6e813` the account
and import-batch keys of `contacts` and the account key of `email_addresses` (an address keeps
its contact's key). Up one at a time and back down: the rows stay as they were, each step
leaves exactly the keys and indexes it should, and the downgrade puts back what was there,
still cascading where it did. Both databases, through Alembic."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.test_migration_mass_snapshot import T0, _x, old_database  # noqa: F401 (a fixture)

BEFORE, MATCHES, ENTITIES = "c5e1a9d3b702", "b7d3e5f1a926", "d9f2a4c6e813"
TABLES = ("import_matches", "contacts", "email_addresses")
ALL_KEYS = {
    "import_matches": {
        ("batch_id", "import_batches", "CASCADE"),
        ("contact_id", "contacts", "CASCADE"),
    },
    "contacts": {("account_id", "accounts", None), ("import_batch_id", "import_batches", None)},
    "email_addresses": {("account_id", "accounts", None), ("contact_id", "contacts", None)},
}
# The keys each revision leaves, and import_matches' indexes.
KEYS = {
    BEFORE: ALL_KEYS,
    MATCHES: {**ALL_KEYS, "import_matches": set()},
    ENTITIES: {
        "import_matches": set(),
        "contacts": set(),
        "email_addresses": {("contact_id", "contacts", None)},
    },
}
MATCH_INDEXES = {BEFORE: {"ix_import_matches_contact"}, MATCHES: set(), ENTITIES: set()}


def _schema(db) -> tuple[dict, set]:
    inspector = sa.inspect(db.engine)
    keys = {
        table: {
            (fk["constrained_columns"][0], fk["referred_table"], fk["options"].get("ondelete"))
            for fk in inspector.get_foreign_keys(table)
        }
        for table in TABLES
    }
    return keys, {ix["name"] for ix in inspector.get_indexes("import_matches")}


def _rows(db) -> dict[str, set[tuple]]:
    return {table: set(_x(db, f"SELECT * FROM {table}")) for table in TABLES}


def test_each_step_takes_its_keys_away_and_gives_them_back_and_the_rows_stay(old_database):  # noqa: F811
    db = old_database
    upgrade(revision=BEFORE)
    _x(
        db,
        "INSERT INTO import_batches (id, account_id, filename, permission_confirmed, "
        "permission_statement, created_at) VALUES (7, 1, 'c.csv', true, '', :t)",
        t=T0,
    )
    for cid, batch in ((11, 7), (12, None)):
        _x(
            db,
            "INSERT INTO contacts (id, account_id, first_name, last_name, first_name_key, "
            "last_name_key, company, phone, import_batch_id, created_at) "
            "VALUES (:c, 1, 'A', 'B', 'a', 'b', '', '', :b, :t)",
            c=cid,
            b=batch,
            t=T0,
        )
        _x(db, "UPDATE email_addresses SET contact_id = :c, field = 'email' WHERE id = :a",
           c=cid, a=cid - 10)  # fmt: skip
    _x(db, "INSERT INTO import_matches (batch_id, contact_id) VALUES (7, 12)")
    rows = _rows(db)
    assert all(rows.values())

    assert _schema(db) == (KEYS[BEFORE], MATCH_INDEXES[BEFORE])
    for step, revision in ((upgrade, MATCHES), (upgrade, ENTITIES),
                           (downgrade, MATCHES), (downgrade, BEFORE)):  # fmt: skip
        step(revision=revision)
        assert _schema(db) == (KEYS[revision], MATCH_INDEXES[revision]), revision
        assert _rows(db) == rows, revision
    if db.engine.dialect.name == "sqlite":
        # The migrations ran with SQLite's keys off (migrations/env.py, to rebuild a table
        # others refer to); the connection they used is back in the pool with them on.
        assert _x(db, "SELECT * FROM pragma_foreign_keys") == [(1,)]
