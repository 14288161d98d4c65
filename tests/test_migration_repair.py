"""A database that applied the first version of 3747f5641a37 is repaired by the migrations."""

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

MISSING = ("last_address_id", "queued_field")


@pytest.fixture
def early_database(app, db):
    """At the repair's parent revision, but without the two columns 3747f5641a37 later gained."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision="b7d2e5f8a903")
    with db.engine.begin() as conn:
        for name in MISSING:
            conn.exec_driver_sql(f"ALTER TABLE campaigns DROP COLUMN {name}")
    yield db
    upgrade()


def _columns(db) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns("campaigns")}


def test_upgrading_adds_the_campaign_columns_an_early_database_lacks(early_database):
    assert not set(MISSING) & _columns(early_database)

    upgrade()

    assert set(MISSING) <= _columns(early_database)
