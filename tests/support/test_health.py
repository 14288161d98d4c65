"""`/healthz` and `/readyz`: what a load balancer and an operator's monitoring are told."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from flask_migrate import stamp

from requests_queue.jobs.beats import record_beat
from requests_queue.now import now_utc
from requests_queue.outbox import queue_email
from support import create_app


@pytest.fixture
def migrated(app, db):
    """The schema marked as migrated to head, as `flask db upgrade` leaves it."""
    stamp()
    yield db
    forget_migrations(db)


def forget_migrations(db) -> None:
    """No alembic_version table (PostgreSQL keeps it between tests: it is no model's)."""
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def beat(session, ago: timedelta, active: bool = True) -> None:
    now = now_utc()
    record_beat(session, "host:1", now - timedelta(hours=1), now - ago, now if active else None)
    session.commit()


def test_healthz_answers_without_login_or_database(tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the database is "down"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://u@127.0.0.1:{port}/none",
        }
    )
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["reasons"] == ["database: unreachable"]
    assert ready.headers["Retry-After"]
    assert str(port) not in ready.get_data(as_text=True)  # no URL, no host


def test_ready_when_migrated_scheduler_alive_and_outbox_drained(client, session, migrated):
    beat(session, timedelta(seconds=5))
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready"
    assert set(response.json["checks"]) == {"database", "migrations", "scheduler", "outbox"}
    assert "host:1" not in response.get_data(as_text=True)


def test_not_ready_without_migrations(client, db, session):
    forget_migrations(db)
    beat(session, timedelta(seconds=5))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["reasons"] == [
        "migrations: the database was never migrated: run `flask db upgrade`"
    ]


@pytest.mark.parametrize(
    ("ago", "active", "reason"),
    [
        (timedelta(minutes=3), True, "the scheduler's last heartbeat was 3 min ago"),
        (timedelta(seconds=1), False, "no scheduler has reported in"),  # only a waiting one
    ],
)
def test_not_ready_when_the_scheduler_is_silent(client, session, migrated, ago, active, reason):
    beat(session, ago, active)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert any(reason in r for r in response.json["reasons"]), response.json


def test_not_ready_when_unsent_mail_piles_up(app, client, session, migrated):
    beat(session, timedelta(seconds=5))
    app.config.update(READY_OUTBOX_MAX_BACKLOG=2, READY_OUTBOX_MAX_AGE_MINUTES=30)
    now = now_utc()
    for n in range(3):
        queue_email(session, to=f"p{n}@example.test", subject="Hi", text="Hi.",
                    now=now - timedelta(minutes=45), kind="test")  # fmt: skip
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["reasons"] == [
        "outbox: 3 unsent, the oldest 45 min old (more than 2 and older than 30 min)"
    ]


def test_managers_see_the_same_facts_in_words_on_the_system_page(
    client, session, manager, migrated
):
    beat(session, timedelta(minutes=3))
    client.login(manager.email)
    page = client.get("/manager/system").get_data(as_text=True)
    assert "Not everything is in order" in page
    assert "the scheduler&#39;s last heartbeat was 3 min ago" in page
    assert "<code>host:1</code>" in page and "Silent (stopped or stuck)" in page
    assert "Send emails" in page  # the jobs by their human names
    assert "Database schema" in page and "at head" in page


def test_the_system_page_is_for_managers_only(client, agent):
    client.login(agent.email)
    assert client.get("/manager/system").status_code == 403
