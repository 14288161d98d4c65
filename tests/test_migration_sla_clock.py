"""The migration that stores a request's SLA clock once (on its row) moves the `sla_clocks`
rows onto their requests and back, on both databases, through Alembic itself."""

from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.migrating import at_revision, sql

REVISION, BEFORE = "4c1d7e9a2b60", "3edeb3e4f45c"
T0 = "2026-11-02 15:00:00.000000"
KEY = "k" * 40
# request id -> its sla_clocks row (calendar_key, ran_s, due_at, breach_at), or None
CLOCKS = {
    1: (KEY, 12 * 3600, None, None),  # waiting, stopped before the due time
    2: (KEY, 30 * 3600, "2026-11-05 12:00:00.000000", "2026-11-09 15:00:00.000000"),
    3: None,  # never waited: nothing stored
}
COLUMNS = "clock_calendar_key, clock_ran_s, clock_due_at, clock_breach_at"


def _when(value) -> str | None:
    """A stored instant as text, whatever the driver returns."""
    if value is None:
        return None
    text = value.isoformat(" ") if isinstance(value, datetime) else str(value)
    return text[:19]


@pytest.fixture
def old_database(app, db):
    """The schema before the migration with three requests; left at the head afterwards."""
    at_revision(db, BEFORE, T0)
    for rid, clock in CLOCKS.items():
        sql(db, "INSERT INTO consent_requests (id, account_id, kind, state, filed_by_id, filed_at, "
               "updated_at, selection, fields, address_count, reason, never_sent, "
               "explicit_permission, permission_details, form_links, list_source, attested, "
               "decision_message, checklist, changed_count, skipped_count, skipped_by_reason) "
               "VALUES (:id, 1, 'mass_opt_in', :state, 1, :t, :t, '', 'email', 0, 'r', :yes, "
               ":yes, 'p', '[]', 'other', :yes, '', '{}', 0, 0, '{}')",
           id=rid, state="awaiting_customer" if rid == 1 else "in_review", yes=True,
           t=T0)  # fmt: skip
        if clock is not None:
            sql(db, "INSERT INTO sla_clocks (request_id, calendar_key, ran_s, due_at, breach_at) "
                   "VALUES (:id, :k, :s, :d, :b)", id=rid, k=clock[0], s=clock[1], d=clock[2],
               b=clock[3])  # fmt: skip
    yield db
    upgrade()


def _stored(db) -> dict:
    rows = sql(db, f"SELECT id, {COLUMNS} FROM consent_requests ORDER BY id")
    return {r[0]: None if r[1] is None else (r[1], r[2], _when(r[3]), _when(r[4])) for r in rows}


def _expected() -> dict:
    return {
        rid: None if c is None else (c[0], c[1], _when(c[2]), _when(c[3]))
        for rid, c in CLOCKS.items()
    }


def test_upgrading_moves_each_clock_onto_its_request_and_downgrading_brings_the_rows_back(
    old_database,
):
    db = old_database
    upgrade(revision=REVISION)
    assert _stored(db) == _expected()
    assert "sla_clocks" not in sa.inspect(db.engine).get_table_names()

    downgrade(revision=BEFORE)
    rows = sql(db, "SELECT request_id, calendar_key, ran_s, due_at, breach_at FROM sla_clocks "
                  "ORDER BY request_id")  # fmt: skip
    assert {r[0]: (r[1], r[2], _when(r[3]), _when(r[4])) for r in rows} == {
        rid: v for rid, v in _expected().items() if v is not None
    }
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("consent_requests")}
    assert not {"clock_ran_s", "clock_due_at", "clock_breach_at", "clock_calendar_key"} & columns
