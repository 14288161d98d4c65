"""The migration to canonical addresses re-keys, merges one mailbox stored twice, and goes back.

It runs on rows written the way the schema before it stored them (trimmed, lower-cased, any
Unicode spelling), on both databases, through Alembic itself.
"""

import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

MIGRATIONS = Path(__file__).parent.parent / "migrations"
REVISION = "b7d2e5f8a903"
UNICODE, PUNYCODE = "name@bücher.example", "name@xn--bcher-kva.example"
NFD = unicodedata.normalize("NFD", "josé@x.example")
NFC = unicodedata.normalize("NFC", "josé@x.example")
T0 = "2026-11-01 10:00:00.000000"


def _before() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    return script.get_revision(REVISION).down_revision


def _x(db, sql: str, **params):
    with db.engine.begin() as conn:
        return (
            conn.execute(sa.text(sql), params).all()
            if sql.startswith("SELECT")
            else (conn.execute(sa.text(sql), params))
        )


def _old_database(db):
    """The schema just before the migration, holding one mailbox in several spellings."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision=_before())
    _x(db, "INSERT INTO accounts (id, name, created_at) VALUES (1, 'Acme', :t)", t=T0)
    for cid in (1, 2):
        _x(db, "INSERT INTO contacts (id, account_id, first_name, last_name, first_name_key, "
               "last_name_key, company, phone, created_at) "
               "VALUES (:id, 1, 'C', 'P', 'c', 'p', '', '', :t)", id=cid, t=T0)  # fmt: skip
    rows = [  # id, contact, field, stored address, status
        (1, 1, "email", UNICODE, "single_opt_in"),
        (2, 2, "email", PUNYCODE, "opted_out_by_recipient"),  # stricter: keeps the mailbox
        (3, None, None, NFD, "opted_out_by_user"),  # stricter, detached: moves into 4's field
        (4, 1, "email2", NFC, "non_marketable"),
        (5, 2, "email2", "plain@x.example", "double_opt_in"),
        (6, 2, "email3", "solo@bücher.example", "single_opt_in"),
    ]
    for aid, cid, field, address, status in rows:
        _x(db, "INSERT INTO email_addresses (id, account_id, contact_id, field, address, status, "
               "status_changed_at) VALUES (:id, 1, :c, :f, :a, :s, :t)",
           id=aid, c=cid, f=field, a=address, s=status, t=T0)  # fmt: skip
        _x(db, "INSERT INTO status_events (account_id, address_id, to_status, created_at, "
               "actor_kind, note) VALUES (1, :id, :s, :t, 'system', '')",
           id=aid, s=status, t=T0)  # fmt: skip
    if db.engine.dialect.name == "postgresql":
        for table in ("accounts", "contacts", "email_addresses"):
            _x(db, f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)")


@pytest.fixture
def old_database(app, db):
    """The database before the migration; left at the head after the test, as others expect."""
    _old_database(db)
    yield db
    upgrade()


def _addresses(db) -> dict[int, tuple]:
    rows = _x(db, "SELECT id, address, typed_address, contact_id, field, status "
                  "FROM email_addresses ORDER BY id")  # fmt: skip
    return {r[0]: tuple(r[1:]) for r in rows}


def test_upgrade_merges_one_mailbox_into_its_strictest_row_and_keeps_both_histories(
    old_database,
):
    db = old_database
    events_before = _x(db, "SELECT id, address_id, to_status FROM status_events ORDER BY id")

    upgrade(revision=REVISION)

    assert _addresses(db) == {
        1: ("merged:1", UNICODE, None, None, "single_opt_in"),
        2: (PUNYCODE, None, 2, "email", "opted_out_by_recipient"),
        3: (NFC, NFD, 1, "email2", "opted_out_by_user"),
        4: ("merged:4", NFC, None, None, "non_marketable"),
        5: ("plain@x.example", None, 2, "email2", "double_opt_in"),
        6: ("solo@xn--bcher-kva.example", "solo@bücher.example", 2, "email3", "single_opt_in"),
    }
    merges = _x(
        db,
        "SELECT survivor_id, merged_id, merged_address, merged_status, merged_contact_id, "
        "merged_field FROM address_merges ORDER BY merged_id",
    )
    assert [tuple(m) for m in merges] == [
        (2, 1, UNICODE, "single_opt_in", 1, "email"),
        (3, 4, NFC, "non_marketable", 1, "email2"),
    ]
    # History is never edited: every event is still there, on the row it was written for.
    assert _x(db, "SELECT id, address_id, to_status FROM status_events ORDER BY id") == (
        events_before
    )


def test_downgrade_puts_the_old_spellings_back(old_database):
    db = old_database
    before = _x(db, "SELECT id, address FROM email_addresses ORDER BY id")
    upgrade(revision=REVISION)

    downgrade(revision=_before())

    after = _x(db, "SELECT id, address FROM email_addresses ORDER BY id")
    assert after == before
    attached = _x(db, "SELECT id, contact_id, field FROM email_addresses WHERE id IN (1, 4)")
    # Address 1's field was free again; address 4's was taken by the row that survived.
    assert sorted(tuple(r) for r in attached) == [(1, 1, "email"), (4, None, None)]
