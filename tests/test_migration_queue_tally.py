"""The migration that keeps the queue's counts (issue 16): the counts start from the requests
already there, the triggers it makes log the next change, and the downgrade removes tables and
triggers so requests change as before. Both databases, through Alembic."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.test_migration_mass_snapshot import T0, _x, old_database  # noqa: F401 (a fixture)

BEFORE, REVISION = "e5b9d2f7a184", "f3a7c1e9b254"


def _request(db, rid: int, state: str, assignee) -> None:
    _x(db, "INSERT INTO consent_requests (id, account_id, kind, state, filed_by_id, filed_at, "
           "updated_at, assignee_id, selection, fields, address_count, reason, never_sent, "
           "explicit_permission, permission_details, form_links, list_source, attested, "
           "decision_message, checklist, changed_count, skipped_count, skipped_by_reason) "
           "VALUES (:id, 1, 'mass_opt_in', :s, 1, :t, :t, :a, 'all', 'email', 1, 'r', true, "
           "true, 'p', '[]', 'website_form', true, '', '[]', 0, 0, '{}')",
       id=rid, s=state, a=assignee, t=T0)  # fmt: skip


def _tally(db) -> set[tuple]:
    return set(_x(db, "SELECT state, kind, account_id, assignee_key, n FROM queue_tally"))


def test_counts_start_from_the_requests_and_the_triggers_log_what_follows(old_database):  # noqa: F811
    db = old_database
    upgrade(revision=BEFORE)
    for rid, state, assignee in ((1, "submitted", None), (2, "submitted", None),
                                 (3, "in_review", 1), (4, "approved", 1)):  # fmt: skip
        _request(db, rid, state, assignee)
    upgrade(revision=REVISION)
    assert _tally(db) == {
        ("submitted", "mass_opt_in", 1, 0, 2),
        ("in_review", "mass_opt_in", 1, 1, 1),
        ("approved", "mass_opt_in", 1, 1, 1),
    }
    _x(db, "UPDATE consent_requests SET state = 'in_review', assignee_id = 1 WHERE id = 1")
    changes = _x(db, "SELECT state, assignee_key, sum(n) FROM queue_tally_changes "
                     "GROUP BY state, assignee_key ORDER BY state")  # fmt: skip
    assert changes == [("in_review", 1, 1), ("submitted", 0, -1)]

    downgrade(revision=BEFORE)
    tables = set(sa.inspect(db.engine).get_table_names())
    assert not {"queue_tally", "queue_tally_changes"} & tables
    _x(db, "UPDATE consent_requests SET state = 'approved' WHERE id = 1")  # no trigger left
    _request(db, 5, "submitted", None)
    assert _x(db, "SELECT count(*) FROM consent_requests") == [(5,)]
