"""The migration that drops the per-row foreign keys of `status_events` and
`request_addresses` (issue 11 §3): the rows stay as they were both ways, the upgrade leaves no
key on either table, the downgrade puts every key back. Both databases, through Alembic."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.test_migration_mass_snapshot import _x, old_database  # noqa: F401 (a fixture)
from tests.test_migration_queue_tally import _request

BEFORE, REVISION = "a8d4c2e6f913", "c5e1a9d3b702"
KEYS = {
    "request_addresses": {("address_id", "email_addresses"), ("request_id", "consent_requests")},
    "status_events": {
        ("account_id", "accounts"),
        ("address_id", "email_addresses"),
        ("actor_user_id", "users"),
        ("mass_action_id", "mass_actions"),
        ("import_batch_id", "import_batches"),
        ("request_id", "consent_requests"),
    },
}


def _keys(db) -> dict[str, set[tuple]]:
    inspector = sa.inspect(db.engine)
    return {
        table: {
            (fk["constrained_columns"][0], fk["referred_table"])
            for fk in inspector.get_foreign_keys(table)
        }
        for table in KEYS
    }


def _rows(db) -> dict[str, set[tuple]]:
    return {table: set(_x(db, f"SELECT * FROM {table}")) for table in KEYS}


def test_the_keys_go_and_come_back_and_the_rows_stay(old_database):  # noqa: F811
    db = old_database
    upgrade(revision=BEFORE)
    _request(db, 1, "approved", 1)
    for address_id, outcome in ((1, "changed"), (2, "skipped")):
        _x(db, "INSERT INTO request_addresses (request_id, address_id, field, status_at_filing, "
               "outcome) VALUES (1, :a, 'email', 'non_marketable', :o)",
           a=address_id, o=outcome)  # fmt: skip
    _x(db, "INSERT INTO status_events (account_id, address_id, from_status, to_status, "
           "created_at, actor_kind, actor_user_id, request_id, note) VALUES (1, 1, "
           "'non_marketable', 'single_opt_in', '2026-11-02 10:00:00', 'agent', 1, 1, '')",
       )  # fmt: skip
    rows = _rows(db)
    assert all(rows.values()) and _keys(db) == KEYS

    upgrade(revision=REVISION)
    assert _keys(db) == {table: set() for table in KEYS}
    assert _rows(db) == rows

    downgrade(revision=BEFORE)
    assert _keys(db) == KEYS
    assert _rows(db) == rows
