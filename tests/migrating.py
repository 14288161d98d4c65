"""Helpers of the migration tests: a database at an older revision, with one customer."""

import sqlalchemy as sa
from flask_migrate import upgrade


def sql(db, statement: str, **params):
    """Run one statement in its own transaction; a SELECT returns its rows."""
    with db.engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return result.all() if statement.startswith("SELECT") else None


def at_revision(db, revision: str, when: str) -> None:
    """An empty database migrated to `revision`, with account 1 and its customer, user 1."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision=revision)
    sql(db, "INSERT INTO accounts (id, name, created_at) VALUES (1, 'Acme', :t)", t=when)
    sql(db, "INSERT INTO users (id, email, name, password_hash, role, session_version, "
            "is_active, created_at, account_id) VALUES (1, 'c@x.example', 'C', 'x', 'customer', "
            "1, :yes, :t, 1)", yes=True, t=when)  # fmt: skip
