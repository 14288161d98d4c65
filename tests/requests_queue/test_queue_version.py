"""The queue's version (issue 16: a web process reuses a queue page while nothing it shows has
changed). Every committed write a queue page shows grows the version, through the lifecycle or
plain SQL, one row or many; writes a queue page does not show leave it; a fold keeps it; on
PostgreSQL a change is counted only once committed, and writers do not wait on each other."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.jobs.runner import JobRunner
from requests_queue.jobs.schedule import SCHEDULE
from requests_queue.models import ConsentRequest, JobRun, QueueVersionBump
from requests_queue.models.queue_version import POSTGRESQL_TRIGGERS, SQLITE_TRIGGERS
from requests_queue.requests import queue_version
from requests_queue.requests.lifecycle import claim_request
from tests.conftest import NOW, actor_of

# (what changes, the statement) for each kind of write a queue page shows
SHOWN = {
    "a request's state": "UPDATE consent_requests SET state = 'in_review' WHERE id = :r",
    "a request's stored clock": "UPDATE consent_requests SET clock_ran_s = 60 WHERE id = :r",
    "a request's address count": "UPDATE consent_requests SET address_count = 9 WHERE id = :r",
    "a request deleted": "DELETE FROM consent_requests WHERE id = :c",  # a copy: nothing refers
    "an account's name": "UPDATE accounts SET name = 'Renamed' WHERE id = :a",
    "an agent's name": "UPDATE users SET name = 'Renamed' WHERE id = :u",
    "an agent's role": "UPDATE users SET role = 'manager' WHERE id = :u",
    "an agent deactivated": "UPDATE users SET is_active = false WHERE id = :u",
    "an agent's zone": "UPDATE users SET time_zone = 'Asia/Tokyo' WHERE id = :u",
    "the team's zone": "INSERT INTO calendar_settings (id, timezone, country, updated_at) "
    "VALUES (1, 'Asia/Tokyo', 'JP', :t)",
    "the team's hours": "INSERT INTO calendar_hours (weekday, opens, closes) "
    "VALUES (5, '10:00:00', '14:00:00')",
    "a holiday": "INSERT INTO calendar_holidays (day, change, note, created_at) "
    "VALUES (:d, 'added', '', :t)",
}
NOT_SHOWN = {
    "a password": "UPDATE users SET password_hash = 'x' WHERE id = :u",
    "a session version": "UPDATE users SET session_version = session_version + 1 WHERE id = :u",
    "a contact's address": "UPDATE email_addresses SET status = 'single_opt_in'",
}


def _run(session: Session, sql: str, ids: dict) -> None:
    session.execute(sa.text(sql), ids)


@pytest.fixture
def filed(session, customer, agent, file_opt_in):
    req = file_opt_in(customer, n=2)
    table = ConsentRequest.__table__
    cols = [c for c in table.c if c.name != "id"]
    copy = session.execute(
        sa.insert(table)
        .from_select(cols, sa.select(*cols).where(table.c.id == req.id))
        .returning(table.c.id)
    ).scalar_one()
    session.commit()
    return {"r": req.id, "c": copy, "a": customer.account_id, "u": agent.id,
            "d": date(2027, 1, 4), "t": NOW}  # fmt: skip


@pytest.mark.parametrize("change", list(SHOWN))
def test_every_write_a_queue_page_shows_grows_the_version(session, filed, change):
    before = queue_version.current(session)
    session.commit()
    _run(session, SHOWN[change], filed)
    session.commit()
    assert queue_version.current(session) > before


@pytest.mark.parametrize("change", list(NOT_SHOWN))
def test_writes_a_queue_page_does_not_show_leave_it(session, filed, change):
    before = queue_version.current(session)
    session.commit()
    _run(session, NOT_SHOWN[change], filed)
    session.commit()
    assert queue_version.current(session) == before


def test_the_lifecycle_grows_it_and_a_fold_keeps_it(db, session, filed, agent):
    before = queue_version.current(session)
    claim_request(session, session.get(ConsentRequest, filed["r"]), actor_of(agent), NOW)
    session.commit()
    claimed = queue_version.current(session)
    assert claimed > before
    runner = JobRunner(db.engine, schedule=SCHEDULE, clock=lambda: NOW)
    run = session.get(JobRun, runner.run("tally_queue"))
    session.expire_all()
    assert queue_version.current(session) == claimed
    rows = session.scalar(sa.select(sa.func.count()).select_from(QueueVersionBump))
    assert rows == 1  # everything folded into row 0 (SQLite's triggers write only row 0)
    if session.get_bind().dialect.name == "postgresql":
        assert run.counts["bumps"] > 0


@pytest.mark.postgres_only
def test_a_change_counts_once_committed_and_writers_do_not_wait(db, session, filed):
    """A reader sees the version grow only when the change it counts is visible to it, and
    two writers holding their changes at once do not wait on one counter."""
    engine = session.get_bind()
    before = queue_version.current(session)
    session.commit()
    done = threading.Event()
    with engine.connect() as one, engine.connect() as two:
        one.execute(sa.text(SHOWN["a request's address count"]), filed)
        assert queue_version.current(session) == before  # not committed: not counted
        session.commit()

        def other():
            two.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            two.execute(sa.text(SHOWN["an account's name"]), filed)
            done.set()

        worker = threading.Thread(target=other)
        worker.start()
        worker.join(timeout=5)
        assert done.is_set()  # it did not wait for the first writer's counter
        with Session(engine) as folder:  # a fold beside both loses neither
            queue_version.fold(folder)
            folder.commit()
        two.commit()
        one.commit()
    assert queue_version.current(session) == before + 2


def test_the_migration_makes_the_triggers_the_models_make():
    migration = Path(__file__).parents[2] / "migrations/versions/c4e8a2f6b913_queue_version.py"
    frozen: dict = {}
    exec(compile(migration.read_text(), str(migration), "exec"), frozen)  # noqa: S102
    assert frozen["SQLITE_TRIGGERS"] == SQLITE_TRIGGERS
    assert frozen["POSTGRESQL_TRIGGERS"] == POSTGRESQL_TRIGGERS
