"""The migration that drops `request_addresses`' foreign keys (issue 11 §3): the frozen rows
stay as they were both ways, the upgrade leaves no per-row check on the table, the downgrade
puts both keys back. Both databases, through Alembic."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.test_migration_mass_snapshot import _x, old_database  # noqa: F401 (a fixture)
from tests.test_migration_queue_tally import _request

BEFORE, REVISION = "a8d4c2e6f913", "c5e1a9d3b702"
KEYS = {("address_id", "email_addresses"), ("request_id", "consent_requests")}


def _keys(db) -> set[tuple]:
    return {
        (fk["constrained_columns"][0], fk["referred_table"])
        for fk in sa.inspect(db.engine).get_foreign_keys("request_addresses")
    }


def _frozen(db) -> set[tuple]:
    return set(_x(db, "SELECT request_id, address_id, field, status_at_filing, outcome "
                      "FROM request_addresses"))  # fmt: skip


def test_the_keys_go_and_come_back_and_the_frozen_rows_stay(old_database):  # noqa: F811
    db = old_database
    upgrade(revision=BEFORE)
    _request(db, 1, "approved", 1)
    for address_id, outcome in ((1, "changed"), (2, "skipped")):
        _x(db, "INSERT INTO request_addresses (request_id, address_id, field, status_at_filing, "
               "outcome) VALUES (1, :a, 'email', 'non_marketable', :o)", a=address_id, o=outcome)  # fmt: skip
    rows = _frozen(db)
    assert _keys(db) == KEYS

    upgrade(revision=REVISION)
    assert _keys(db) == set()
    assert _frozen(db) == rows

    downgrade(revision=BEFORE)
    assert _keys(db) == KEYS
    assert _frozen(db) == rows
