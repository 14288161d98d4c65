"""`flask scheduler` as real processes: one active per database, takeover, clean refusal."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from requests_queue.models import Base, JobRun
from tests.child_processes import start_scheduler, wait_until

# Tests that start processes run on one pytest-xdist worker, one at a time (make test --dist
# loadgroup): several at once on two cores would stretch their startups past the bounds below.
pytestmark = pytest.mark.xdist_group("processes")


class Schedulers:
    """Starts `flask scheduler` processes on one database; kills any left at the end."""

    def __init__(self, database_url: str, logs: Path):
        self.url, self.logs, self.started = database_url, logs, []

    def start(self) -> subprocess.Popen:
        """One more scheduler process, every job ticking twice a second (test-only setting)."""
        log = self.logs / f"scheduler{len(self.started)}.log"
        proc = start_scheduler(self.url, log)
        proc.log = log
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=20)


@pytest.fixture
def schedulers(tmp_path):
    """Factory of scheduler processes for a database URL."""
    made: list[Schedulers] = []

    def make(url: str) -> Schedulers:
        made.append(Schedulers(url, tmp_path))
        return made[-1]

    yield make
    for group in made:
        group.stop_all()


def finished_runs(engine) -> list[tuple[int, str]]:
    """(id, runner) of every finished job run."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(JobRun.id, JobRun.runner)
            .where(JobRun.finished_at.is_not(None))
            .order_by(JobRun.id)
        ).all()


def ran_by(proc: subprocess.Popen) -> str:
    return f":{proc.pid}"


def test_sqlite_refuses_a_second_scheduler_with_a_clear_message(schedulers, tmp_path):
    url = f"sqlite:///{tmp_path / 'desk.sqlite'}"
    engine = sa.create_engine(url)
    Base.metadata.create_all(engine)
    group = schedulers(url)
    first = group.start()
    wait_until(lambda: finished_runs(engine), what="the first scheduler's runs")

    second = group.start()
    assert second.wait(timeout=60) == 1
    message = second.log.read_text()
    assert "Another scheduler is already running for this database" in message
    assert f"pid {first.pid}" in message

    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    assert "Scheduler stopped." in first.log.read_text()
    assert {runner for _, runner in finished_runs(engine)} == {f"{os.uname().nodename}:{first.pid}"}
    engine.dispose()


@pytest.mark.postgres_only
def test_one_of_two_schedulers_runs_jobs_and_the_other_takes_over_when_it_dies(app, db, schedulers):
    group = schedulers(app.config["SQLALCHEMY_DATABASE_URI"])
    a, b = group.start(), group.start()
    wait_until(lambda: finished_runs(db.engine), what="a first job run")
    active, standby = (a, b) if finished_runs(db.engine)[0][1].endswith(ran_by(a)) else (b, a)
    wait_until(lambda: "waiting" in standby.log.read_text(), what="the other to wait")
    seen = len(finished_runs(db.engine))
    wait_until(lambda: len(finished_runs(db.engine)) >= seen + 12, what="more runs")
    assert a.poll() is None and b.poll() is None  # the other one waits, it does not exit
    assert all(runner.endswith(ran_by(active)) for _, runner in finished_runs(db.engine))

    active.kill()  # no goodbye: the server frees the lock when the connection drops
    active.wait(timeout=20)
    wait_until(
        lambda: any(r.endswith(ran_by(standby)) for _, r in finished_runs(db.engine)),
        what="the standby scheduler to take over",
    )
    last_by_killed = max(i for i, r in finished_runs(db.engine) if r.endswith(ran_by(active)))
    after = [r for i, r in finished_runs(db.engine) if i > last_by_killed]
    assert after and all(r.endswith(ran_by(standby)) for r in after)
    assert "Scheduler active" in standby.log.read_text()
