"""The migration that makes a mass opt-out's events its prior-status snapshot (issue 11 §3).

Before it, `mass_action_items` kept a copy of each changed address's prior status. Upgrading
drops the copy once every item is found in the events, and the undo then reads the same prior
statuses from the events; an item with no event stops the upgrade with the batch named and
nothing changed. Downgrading rebuilds the table from the events. Both databases, through
Alembic.
"""

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from requests_queue.mass_actions import prior_statuses

MIGRATIONS = Path(__file__).parent.parent / "migrations"
REVISION = "b7e3d91c5a20"
T0 = "2026-11-01 10:00:00.000000"
# address id -> (status before the batch, status now); address 3 was never in a batch.
ADDRESSES = {
    1: ("single_opt_in", "opted_out_by_user"),
    2: ("non_marketable", "opted_out_by_user"),
    3: ("double_opt_in", "double_opt_in"),
}


def _before() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_revision(REVISION).down_revision


def _x(db, sql: str, **params):
    with db.engine.begin() as conn:
        result = conn.execute(sa.text(sql), params)
        return result.all() if sql.lstrip().startswith("SELECT") else None


def _batch_index(db) -> list[str]:
    indexes = sa.inspect(db.engine).get_indexes("status_events")
    return next(i["column_names"] for i in indexes if i["name"] == "ix_status_events_mass_action")


def _items(db) -> set[tuple]:
    return set(_x(db, "SELECT mass_action_id, address_id, prior_status FROM mass_action_items"))


@pytest.fixture
def old_database(app, db):
    """A mass opt-out of two addresses as the schema before stored it: its events and, for
    each, a copied snapshot row."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision=_before())
    _x(db, "INSERT INTO accounts (id, name, created_at) VALUES (1, 'Acme', :t)", t=T0)
    _x(db, "INSERT INTO users (id, email, name, password_hash, role, account_id, is_active, "
           "created_at) VALUES (1, 'c@acme.example', 'C', 'x', 'customer', 1, true, :t)",
       t=T0)  # fmt: skip
    _x(db, "INSERT INTO mass_actions (id, account_id, user_id, kind, selection, fields, "
           "changed_count, skipped_count, skipped_by_reason, created_at) "
           "VALUES (5, 1, 1, 'opt_out', 'all', 'email', 2, 0, '{}', :t)", t=T0)  # fmt: skip
    for aid, (before, now) in ADDRESSES.items():
        _x(db, "INSERT INTO email_addresses (id, account_id, address, status, status_changed_at) "
               "VALUES (:id, 1, :a, :s, :t)",
           id=aid, a=f"p{aid}@acme.example", s=now, t=T0)  # fmt: skip
        if before != now:
            _x(db, "INSERT INTO status_events (account_id, address_id, from_status, to_status, "
                   "created_at, actor_kind, actor_user_id, mass_action_id, note) "
                   "VALUES (1, :id, :b, :s, :t, 'customer', 1, 5, '')",
               id=aid, b=before, s=now, t=T0)  # fmt: skip
            _x(db, "INSERT INTO mass_action_items (mass_action_id, address_id, prior_status) "
                   "VALUES (5, :id, :b)", id=aid, b=before)  # fmt: skip
    yield db
    db.session.remove()
    upgrade()


def test_upgrade_reads_the_snapshot_from_the_events_and_downgrade_rebuilds_it(old_database):
    db = old_database
    copied = _items(db)
    assert copied == {(5, 1, "single_opt_in"), (5, 2, "non_marketable")}

    upgrade(revision=REVISION)
    assert not sa.inspect(db.engine).has_table("mass_action_items")
    with db.engine.connect() as conn:
        snapshot = {(5, *row) for row in conn.execute(prior_statuses(5))}
    assert {(b, a, s.value) for b, a, s in snapshot} == copied
    assert _batch_index(db) == ["mass_action_id", "address_id"]  # the snapshot in address order

    downgrade(revision=_before())
    assert _items(db) == copied
    assert _batch_index(db) == ["mass_action_id", "id"]


def test_an_item_without_its_event_stops_the_upgrade_and_keeps_the_table(old_database, caplog):
    db = old_database
    # A prior status the events do not hold (address 3 was never changed by the batch).
    _x(db, "INSERT INTO mass_action_items (mass_action_id, address_id, prior_status) "
           "VALUES (5, 3, 'single_opt_in')")  # fmt: skip
    with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits
        upgrade(revision=REVISION)
    assert "mass opt-out #5: address 3 has a prior status but no status event" in caplog.text
    assert len(_items(db)) == 3
    with db.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == _before()
    _x(db, "DELETE FROM mass_action_items WHERE address_id = 3")  # the upgrade can go on now
