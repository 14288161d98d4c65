"""The migration that stores the SLA clock for every request and leaves `report_facts` only the
history, on both databases, through Alembic itself."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.migrating import at_revision, sql

REVISION, BEFORE = "a8d4c2e6f913", "f3a7c1e9b254"
T0 = "2026-11-02 15:00:00.000000"
KEY = "k" * 40
# request id -> (state, clock_base_at, clock_calendar_key) as the old code stored them
OLD = {
    1: ("in_review", "2026-11-03 15:00:00.000000", KEY),  # running after a wait: no mark yet
    2: ("awaiting_customer", None, KEY),  # standing still: nothing to add
    3: ("approved", None, None),  # closed: the old sweep had forgotten its clock
    4: ("submitted", None, None),  # never waited: the old code stored nothing
}
LIVE_CLOCK = {"is_open", "assignee_id", "due_at", "breach_at", "breach_day", "run_s", "run_mark"}


def _columns(db, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


@pytest.fixture
def old_database(app, db):
    """The schema before the migration with four requests, their facts and the facts' state;
    left at the head afterwards."""
    at_revision(db, BEFORE, T0)
    for rid, (state, base, key) in OLD.items():
        sql(db, "INSERT INTO consent_requests (id, account_id, kind, state, filed_by_id, filed_at, "
               "updated_at, selection, fields, address_count, reason, never_sent, "
               "explicit_permission, permission_details, form_links, list_source, attested, "
               "decision_message, checklist, changed_count, skipped_count, skipped_by_reason, "
               "clock_base_at, clock_ran_s, clock_calendar_key) "
               "VALUES (:id, 1, 'mass_opt_in', :state, 1, :t, :t, '', 'email', 0, 'r', :yes, "
               ":yes, 'p', '[]', 'other', :yes, '', '{}', 0, 0, '{}', :base, :ran, :key)",
           id=rid, state=state, yes=True, t=T0, base=base, key=key,
           ran=None if key is None else 3600)  # fmt: skip
        sql(db, "INSERT INTO report_facts (request_id, last_event_id, is_open, filed_at, "
               "filed_day, run_s) VALUES (:id, 1, :open, :t, '2026-11-02', 0)",
           id=rid, open=state != "approved", t=T0)  # fmt: skip
    sql(db, "INSERT INTO report_facts_state (id, calendar_key, last_event_id, refreshed_at) "
           "VALUES (1, :k, 1, :t)", k=KEY, t=T0)  # fmt: skip
    yield db
    upgrade()


def test_upgrading_asks_for_the_clocks_the_old_code_did_not_store_and_keeps_the_history_only(
    old_database,
):
    db = old_database
    started = datetime.now(UTC)
    upgrade(revision=REVISION)
    keys = dict(sql(db, "SELECT id, clock_calendar_key FROM consent_requests"))
    # The waiting one keeps its clock; the others are computed by the next sweep or refresh.
    assert keys == {1: None, 2: KEY, 3: None, 4: None}
    assert "clock_base_mark" in _columns(db, "consent_requests")
    assert not LIVE_CLOCK & _columns(db, "report_facts")
    # The facts are computed again from the timelines, in their new shape.
    assert sql(db, "SELECT count(*) FROM report_facts") == [(0,)]
    assert sql(db, "SELECT count(*) FROM report_facts_state") == [(0,)]
    # The sweep's watermark starts now, with the calendar the facts were computed with.
    [(swept_at, key)] = sql(db, "SELECT swept_at, calendar_key FROM sla_sweep_state")
    if isinstance(swept_at, str):
        swept_at = datetime.fromisoformat(swept_at)
    assert key == KEY
    assert abs(swept_at.replace(tzinfo=UTC) - started) < timedelta(minutes=1)


def test_after_upgrading_the_sweep_stores_every_clock(old_database, app):
    db = old_database
    upgrade(revision=REVISION)
    from requests_queue.calendar_store import load_calendar
    from requests_queue.sla.clock import calendar_key
    from requests_queue.sla.deadlines import refresh_stale_clocks

    with app.app_context():
        calendar = load_calendar(db.session)
        key = calendar_key(calendar)
        # The three not stored, and the waiting one computed with another calendar.
        assert refresh_stale_clocks(db.session, calendar, key).computed == 4
        db.session.commit()
        rows = sql(db, "SELECT id, clock_calendar_key, clock_base_mark FROM consent_requests")
        assert {rid: (k, mark is not None) for rid, k, mark in rows} == {
            1: (key, True),
            2: (key, False),
            3: (key, False),
            4: (key, True),
        }
        assert refresh_stale_clocks(db.session, calendar, key).computed == 0


def test_downgrading_restores_the_old_shapes(old_database):
    db = old_database
    upgrade(revision=REVISION)
    downgrade(revision=BEFORE)
    assert _columns(db, "report_facts") >= LIVE_CLOCK
    assert "clock_base_mark" not in _columns(db, "consent_requests")
    assert "sla_sweep_state" not in sa.inspect(db.engine).get_table_names()
    # The old sweep recomputes what it stores from the timelines.
    assert sql(
        db, "SELECT count(*) FROM consent_requests WHERE clock_calendar_key IS NOT NULL"
    ) == [(0,)]
