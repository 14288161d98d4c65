"""The migration that keeps the queue's version (issue 16): after it a change to a request grows
the version, and the downgrade removes the table and every trigger so requests, accounts and
users change as before. Both databases, through Alembic."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.test_migration_mass_snapshot import _x, old_database  # noqa: F401 (a fixture)

BEFORE, REVISION = "d9f2a4c6e813", "c4e8a2f6b913"


def _version(db) -> int:
    return _x(db, "SELECT coalesce(sum(n), 0) FROM queue_version_bumps")[0][0]


def test_the_version_grows_after_the_upgrade_and_nothing_is_left_after_the_downgrade(old_database):  # noqa: F811, E501
    db = old_database
    upgrade(revision=BEFORE)
    upgrade(revision=REVISION)
    before = _version(db)
    _x(db, "UPDATE accounts SET name = 'Acme Ltd' WHERE id = 1")
    _x(db, "UPDATE users SET name = 'Cee' WHERE id = 1")
    assert _version(db) == before + 2

    downgrade(revision=BEFORE)
    assert "queue_version_bumps" not in set(sa.inspect(db.engine).get_table_names())
    _x(db, "UPDATE accounts SET name = 'Acme' WHERE id = 1")  # no trigger left to fail
    _x(db, "UPDATE users SET name = 'C' WHERE id = 1")
    _x(db, "INSERT INTO calendar_hours (weekday, opens, closes) VALUES (0, '09:00', '17:00')")
    assert _x(db, "SELECT name FROM accounts") == [("Acme",)]
    upgrade(revision=REVISION)  # and up again
    assert _version(db) == 0
    _x(db, "DELETE FROM calendar_hours")
    assert _version(db) == 1
