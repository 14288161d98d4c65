"""The migration that drops `import_matches`' foreign keys and its contact index (issue 11
§3): the rows stay as they were both ways, the upgrade leaves no key and no index but the
primary key, the downgrade puts both keys back, still cascading, and the index. Both
databases, through Alembic."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.test_migration_mass_snapshot import T0, _x, old_database  # noqa: F401 (a fixture)

BEFORE, REVISION = "c5e1a9d3b702", "b7d3e5f1a926"
KEYS = {("batch_id", "import_batches", "CASCADE"), ("contact_id", "contacts", "CASCADE")}


def _keys(db) -> set[tuple]:
    return {
        (fk["constrained_columns"][0], fk["referred_table"], fk["options"].get("ondelete"))
        for fk in sa.inspect(db.engine).get_foreign_keys("import_matches")
    }


def _indexes(db) -> set[str]:
    return {ix["name"] for ix in sa.inspect(db.engine).get_indexes("import_matches")}


def _rows(db) -> set[tuple]:
    return set(_x(db, "SELECT batch_id, contact_id FROM import_matches"))


def test_the_keys_and_the_index_go_and_come_back_and_the_rows_stay(old_database):  # noqa: F811
    db = old_database
    upgrade(revision=BEFORE)
    _x(
        db,
        "INSERT INTO import_batches (id, account_id, filename, permission_confirmed, "
        "permission_statement, created_at) VALUES (7, 1, 'c.csv', true, '', :t)",
        t=T0,
    )
    for cid in (11, 12):
        _x(
            db,
            "INSERT INTO contacts (id, account_id, first_name, last_name, first_name_key, "
            "last_name_key, company, phone, created_at) "
            "VALUES (:c, 1, 'A', 'B', 'a', 'b', '', '', :t)",
            c=cid,
            t=T0,
        )
        _x(db, "INSERT INTO import_matches (batch_id, contact_id) VALUES (7, :c)", c=cid)
    rows = _rows(db)
    assert rows == {(7, 11), (7, 12)}
    assert _keys(db) == KEYS and _indexes(db) == {"ix_import_matches_contact"}

    upgrade(revision=REVISION)
    assert _keys(db) == set() and _indexes(db) == set()
    assert _rows(db) == rows

    downgrade(revision=BEFORE)
    assert _keys(db) == KEYS and _indexes(db) == {"ix_import_matches_contact"}
    assert _rows(db) == rows
