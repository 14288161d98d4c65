"""The migration that keeps a request's eligibility count (issue 11 §1): every existing
account starts with the newest event id as its "statuses changed through" mark, so no change
made before the upgrade can be taken for "nothing changed"; the downgrade removes the
columns. Both databases, through Alembic, on the status events of the previous migration's
test."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.test_migration_mass_snapshot import REVISION as BEFORE
from tests.test_migration_mass_snapshot import _x, old_database  # noqa: F401 (a fixture)

REVISION = "a4d2c8e6f019"


def test_existing_accounts_are_marked_changed_through_the_newest_event(old_database):  # noqa: F811
    db = old_database
    upgrade(revision=BEFORE)
    newest = _x(db, "SELECT max(id) FROM status_events")[0][0]
    assert newest  # the fixture's batch wrote events
    upgrade(revision=REVISION)
    assert _x(db, "SELECT id, status_changed_through FROM accounts") == [(1, newest)]
    freezes = {c["name"] for c in sa.inspect(db.engine).get_columns("request_freezes")}
    assert {"eligibility", "eligibility_through"} <= freezes

    downgrade(revision=BEFORE)
    accounts = {c["name"] for c in sa.inspect(db.engine).get_columns("accounts")}
    assert "status_changed_through" not in accounts
