"""The queue's counts kept by the database (issue 16: the queue page without a scan of every
open request): whatever inserts, changes or deletes requests, through the lifecycle or plain
SQL, one row or thousands, the kept counts plus the changes not folded yet equal a GROUP BY of
the requests themselves (the independent oracle), before and after folds, on both databases.
On PostgreSQL a fold beside an uncommitted change loses nothing, and writers moving requests
in opposite directions at once do not wait on each other."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.jobs.runner import JobRunner
from requests_queue.jobs.schedule import SCHEDULE
from requests_queue.models import ConsentRequest, JobRun, QueueTallyChange, RequestState
from requests_queue.models.queue_tally import POSTGRESQL_TRIGGERS, SQLITE_TRIGGERS
from requests_queue.requests import queue_tally
from requests_queue.requests.agent_queue import QueueFilter, queue_counts
from requests_queue.requests.lifecycle import claim_request
from tests.conftest import NOW, actor_of

STATES = [s.value for s in RequestState]
COLUMNS = [c.name for c in ConsentRequest.__table__.c if c.name != "id"]


def _oracle(session: Session) -> dict[tuple, int]:
    """Requests per (state, kind, account, assignee), counted from the requests."""
    rows = session.execute(
        sa.text(
            "SELECT state, kind, account_id, assignee_id, count(*) FROM consent_requests "
            "GROUP BY state, kind, account_id, assignee_id"
        )
    )
    return {tuple(r[:4]): r[4] for r in rows}


def _kept(session: Session) -> dict[tuple, int]:
    return {tuple(g[:4]): g[4] for g in queue_tally.groups(session, STATES)}


def _copies(session: Session, source: int, n: int) -> None:
    """`n` more requests like `source`, inserted by one statement (as a bulk load would)."""
    cols = ", ".join(COLUMNS)
    select = " UNION ALL ".join([f"SELECT {cols} FROM consent_requests WHERE id = :s"] * n)
    session.execute(sa.text(f"INSERT INTO consent_requests ({cols}) {select}"), {"s": source})


@pytest.fixture
def desk(session, customer, other_customer, agent, manager, file_opt_in):
    """Two accounts' filed requests, copied to 40 (the copies have no events, so they can go)."""
    filed = [file_opt_in(customer, n=2), file_opt_in(other_customer, n=2, prefix="q")]
    for req in filed:
        _copies(session, req.id, 19)
    session.commit()
    return [req.id for req in filed], [None, agent.id, manager.id]


def test_kept_counts_follow_every_change_to_the_requests(session, desk):
    keep, people = desk
    accounts = [session.get(ConsentRequest, i).account_id for i in keep]
    rng = random.Random(16)
    for step in range(60):
        ids = list(session.scalars(sa.text("SELECT id FROM consent_requests ORDER BY id")))
        some = rng.sample(ids, rng.randint(1, min(12, len(ids))))
        move = rng.choice(["state", "assignee", "account", "both", "unrelated", "delete", "insert"])
        params = {"ids": some}
        if move == "state":
            sql = "UPDATE consent_requests SET state = :v WHERE id IN :ids"
            params["v"] = rng.choice(STATES)
        elif move == "assignee":
            sql = "UPDATE consent_requests SET assignee_id = :v WHERE id IN :ids"
            params["v"] = rng.choice(people)
        elif move == "account":  # no screen does it; the count follows all the same
            sql = "UPDATE consent_requests SET account_id = :v WHERE id IN :ids"
            params["v"] = rng.choice(accounts)
        elif move == "both":  # out of one group and back into it: no net change
            sql = "UPDATE consent_requests SET state = state, assignee_id = :v WHERE id IN :ids"
            params["v"] = rng.choice(people)
        elif move == "unrelated":
            sql = "UPDATE consent_requests SET reason = 'edited' WHERE id IN :ids"
        elif move == "delete":
            some = [i for i in some if i not in keep]
            sql, params = "DELETE FROM consent_requests WHERE id IN :ids", {"ids": some or [0]}
        else:
            _copies(session, rng.choice(ids), rng.randint(1, 5))
            sql = ""
        if sql:
            statement = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
            logged = session.scalar(sa.select(sa.func.count()).select_from(QueueTallyChange))
            session.execute(statement, params)
            if move == "unrelated":  # a change that moves no request writes nothing
                after = session.scalar(sa.select(sa.func.count()).select_from(QueueTallyChange))
                assert after == logged
        if rng.random() < 0.3:
            queue_tally.fold(session)
        if rng.random() < 0.5:
            session.commit()
        assert _kept(session) == _oracle(session), (step, move)
    queue_tally.fold(session)
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(QueueTallyChange)) == 0
    assert _kept(session) == _oracle(session)


def test_the_queue_counts_a_claim_and_the_search_counts_agree(session, desk, agent):
    (first, _), _ = desk
    everyone = QueueFilter()
    before = queue_counts(session, everyone)
    claim_request(session, session.get(ConsentRequest, first), actor_of(agent), NOW)
    session.commit()
    after = queue_counts(session, everyone)
    assert after.total == before.total
    assert after.state[RequestState.in_review] == before.state.get(RequestState.in_review, 0) + 1
    assert after.assignee[agent.id] == before.assignee.get(agent.id, 0) + 1
    queue_tally.fold(session)
    session.commit()
    assert queue_counts(session, everyone) == after
    # A search counts the requests it finds by scanning them: the same figures for an account.
    account = session.get(ConsentRequest, first).account
    searched = queue_counts(session, QueueFilter(search=account.name))
    kept = queue_counts(session, QueueFilter())
    assert searched.account[account.id] == kept.account[account.id]


def test_the_job_folds_the_changes(db, session, desk):
    assert session.scalar(sa.select(sa.func.count()).select_from(QueueTallyChange)) > 0
    before = _kept(session)
    session.commit()
    runner = JobRunner(db.engine, schedule=SCHEDULE, clock=lambda: NOW)
    assert session.get(JobRun, runner.run("tally_queue")).counts["folded"] > 0
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(QueueTallyChange)) == 0
    assert _kept(session) == before == _oracle(session)


def test_the_migration_makes_the_triggers_the_models_make():
    migration = Path(__file__).parents[2] / "migrations/versions/f3a7c1e9b254_queue_tally.py"
    frozen: dict = {}
    exec(compile(migration.read_text(), str(migration), "exec"), frozen)  # noqa: S102
    assert frozen["SQLITE_TRIGGERS"] == SQLITE_TRIGGERS
    assert frozen["POSTGRESQL_TRIGGERS"] == POSTGRESQL_TRIGGERS


@pytest.mark.postgres_only
def test_a_fold_beside_an_uncommitted_change_loses_nothing(db, session, desk):
    engine = session.get_bind()
    queue_tally.fold(session)
    session.commit()
    first = desk[0][0]
    with engine.connect() as writer:
        writer.execute(sa.text("UPDATE consent_requests SET state = 'withdrawn' WHERE id = :i"),
                       {"i": first})  # fmt: skip
        with Session(engine) as folder:  # its fold cannot see the writer's change yet
            queue_tally.fold(folder)
            folder.commit()
        writer.commit()
    with Session(engine) as fresh:
        assert _kept(fresh) == _oracle(fresh)
        queue_tally.fold(fresh)
        fresh.commit()
        assert _kept(fresh) == _oracle(fresh)


@pytest.mark.postgres_only
def test_writers_moving_requests_both_ways_at_once_do_not_wait(db, session, desk, agent):
    """Two transactions move requests between the same two groups in opposite directions,
    each holding its change while the other writes: with one counter row per group the second
    would wait for the first (or deadlock); the log takes both at once."""
    mine = desk[0][0]
    source = session.get(ConsentRequest, mine)
    theirs = session.scalar(  # a request in the same group as mine
        sa.select(ConsentRequest.id)
        .where(ConsentRequest.account_id == source.account_id, ConsentRequest.id != mine)
        .limit(1)
    )
    engine = session.get_bind()
    sql = sa.text("UPDATE consent_requests SET assignee_id = :v WHERE id = :i")
    session.execute(sql, {"v": agent.id, "i": theirs})
    session.commit()
    done = threading.Event()
    with engine.connect() as one, engine.connect() as two:
        one.execute(sql, {"v": agent.id, "i": mine})  # unassigned -> agent
        one.execute(sa.text("SET LOCAL lock_timeout = '2s'"))

        def other():
            two.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            two.execute(sql, {"v": None, "i": theirs})  # agent -> unassigned
            done.set()

        worker = threading.Thread(target=other)
        worker.start()
        worker.join(timeout=5)
        assert done.is_set()  # it did not wait for the first transaction
        two.commit()
        one.commit()
    with Session(engine) as fresh:
        assert _kept(fresh) == _oracle(fresh)
