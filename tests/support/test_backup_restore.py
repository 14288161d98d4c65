"""Backups as docs/operations.md tells an operator to take and restore them (PostgreSQL)."""

from __future__ import annotations

import subprocess

import pytest
import sqlalchemy as sa
from flask_migrate import stamp
from sqlalchemy.engine import make_url

from support import create_app
from tests.conftest import PASSWORD, Client


def libpq_args(url) -> list[str]:
    """pg_dump / pg_restore connection options for a SQLAlchemy URL."""
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username]
    return [*args, "--no-password"]


@pytest.mark.postgres_only
def test_a_dump_restored_into_a_new_database_starts_and_is_at_head(app, db, customer, tmp_path):
    stamp()  # the test schema is the models'; mark it migrated, as `flask db upgrade` would
    source = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    restored = source.set(database=f"{source.database}_restored")
    admin = sa.create_engine(source, isolation_level="AUTOCOMMIT")
    dump = tmp_path / "consent_desk.dump"
    try:
        subprocess.run(
            ["pg_dump", *libpq_args(source), "--format=custom", "--file", str(dump),
             source.database],
            check=True,
        )  # fmt: skip
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{restored.database}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{restored.database}"')
        subprocess.run(
            ["pg_restore", *libpq_args(source), "--no-owner", "--exit-on-error",
             "--dbname", restored.database, str(dump)],
            check=True,
        )  # fmt: skip

        started = create_app(
            {**app.config, "SQLALCHEMY_DATABASE_URI": restored.render_as_string(False)}
        )
        email = customer.email  # read here: inside `started`, it would be read through its pool
        with started.app_context():
            ready = started.test_client().get("/readyz").json
            browser = Client(started)
            browser.login(email, PASSWORD)
            contacts = browser.get("/contacts").status_code
            from support.extensions import db as restored_db

            restored_db.session.remove()
            restored_db.engine.dispose()
        assert ready["checks"]["database"]["ok"]
        assert ready["checks"]["migrations"] == {"ok": True, "detail": "at head"}
        assert contacts == 200  # the customer's account and password came back too
    finally:
        db.session.rollback()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{restored.database}" WITH (FORCE)')
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        admin.dispose()
