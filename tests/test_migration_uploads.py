"""The migration to shared upload storage carries waiting import files into the database.

An unfinished batch whose file is on this host's disk gets it as a blob (its run can then
resume on any host); one whose file is gone keeps no file and fails when resumed; a finished
batch needs none. Downgrade puts the path column back. Both databases, through Alembic.
"""

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

MIGRATIONS = Path(__file__).parent.parent / "migrations"
REVISION = "c6f2a8e4d915"
T0 = "2026-11-01 10:00:00.000000"


def _before() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_revision(REVISION).down_revision


def _x(db, sql: str, **params):
    with db.engine.begin() as conn:
        result = conn.execute(sa.text(sql), params)
        return result.all() if sql.startswith("SELECT") else None


@pytest.fixture
def old_database(app, db, tmp_path):
    """Three batches as the schema before stored them: files named by a path on this host."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision=_before())
    _x(db, "INSERT INTO accounts (id, name, created_at) VALUES (1, 'Acme', :t)", t=T0)
    waiting = tmp_path / "7.csv"
    # Over one chunk (1 MiB), so the copy is in pieces.
    waiting.write_bytes(b"Email\n" + b"someone@example.com\n" * 60_000)
    for bid, state, path in [
        (7, "running", str(waiting)),
        (8, "queued", str(tmp_path / "gone.csv")),
        (9, "finished", ""),
    ]:
        _x(db, "INSERT INTO import_batches (id, account_id, filename, permission_confirmed, "
               "permission_statement, created_at, state, file_path) "
               "VALUES (:id, 1, 'f.csv', true, '', :t, :s, :p)",
           id=bid, t=T0, s=state, p=path)  # fmt: skip
    yield db, waiting
    upgrade()


def test_upgrade_copies_a_waiting_file_into_the_database_and_downgrade_goes_back(old_database):
    db, waiting = old_database
    upgrade(revision=REVISION)
    files = dict(_x(db, "SELECT id, file_blob_id FROM import_batches ORDER BY id"))
    assert files[8] is None and files[9] is None
    ((size, sha256),) = _x(db, "SELECT size, sha256 FROM blobs WHERE id = :b", b=files[7])
    chunks = _x(db, "SELECT data FROM blob_chunks WHERE blob_id = :b ORDER BY seq", b=files[7])
    content = waiting.read_bytes()
    assert len(chunks) == 2 and b"".join(bytes(c) for (c,) in chunks) == content
    assert (size, sha256) == (len(content), hashlib.sha256(content).hexdigest())

    downgrade(revision=_before())
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("import_batches")}
    assert "file_path" in columns and "file_blob_id" not in columns
    assert not sa.inspect(db.engine).has_table("blobs")
