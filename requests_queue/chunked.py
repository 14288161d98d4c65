"""Background runs that write in committed chunks: claim, heartbeat, resume, fail visibly.

A double opt-in campaign and a mass opt-out are recorded by the customer's click (the row is
in its `working` state, its selection frozen) and written afterwards by a run that takes the
row, then calls its kind's `step` once per chunk, each chunk one transaction. A step begins
with `beat`, which moves the row's heartbeat on only while this run still holds it, so two
runs never write beside each other: a run silent for `stale_after` is taken for dead, the
next run (the customer's page or the scheduler's resume job) takes the row over, and the old
one, should it wake up, finds its claim gone (`LostClaim`) and stops. A step that raises
leaves the row `failed` with a readable reason; the chunks already committed stay, and the
row says how far it got. Nothing ever looks finished before its last chunk commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .errors import ValidationError
from .logcontext import running
from .now import now_utc

log = logging.getLogger(__name__)

# A run beats with every chunk it writes (half a second to a few seconds each): silent for
# this long, it died. A run that was only waiting (for the account's lock) finds its claim
# taken and stops.
STALE_AFTER = timedelta(seconds=30)

Step = Callable[[Session, Any, datetime], bool]  # (session, row, now) -> whole work done


class LostClaim(Exception):
    """Another run took the row over (this one was silent too long); stop writing."""


@dataclass(frozen=True)
class ChunkedRuns:
    """One kind of chunked background run over the rows of `model`.

    The model has `id`, `state`, `created_at`, `heartbeat_at` and `error`; `working` is the
    state while work is left, `failed` the state a run that raised leaves, and `failure`
    what the row says when the cause is not the customer's to read.
    """

    model: type
    working: Any
    failed: Any
    kind: str  # the log context's name, and background.start's key
    failure: str
    stale_after: timedelta = STALE_AFTER

    def unclaimed(self, now: datetime) -> sa.ColumnElement[bool]:
        """No run holds the row: none started, or the last one has been silent too long."""
        beat = self.model.heartbeat_at
        return sa.or_(beat.is_(None), beat < now - self.stale_after)

    def is_stalled(self, row, now: datetime) -> bool:
        """Still working, but its run has been silent for `stale_after` (it is resumed)."""
        beat = row.heartbeat_at or row.created_at
        return row.state is self.working and beat < now - self.stale_after

    def claim(self, session: Session, row_id: int, now: datetime) -> bool:
        """Take the row for this run; one UPDATE, so two runs never both take it."""
        m = self.model
        claimed = session.execute(
            sa.update(m)
            .where(m.id == row_id, m.state == self.working, self.unclaimed(now))
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
        return claimed == 1

    def beat(self, session: Session, row, now: datetime) -> None:
        """Move the heartbeat on if this run still holds the row, else raise LostClaim.

        A step's first write: on SQLite it takes the write lock before the chunk reads
        anything, and a run that was taken over stops before writing beside the new one.
        """
        m = self.model
        mine = m.heartbeat_at.is_(None) if row.heartbeat_at is None else (
            m.heartbeat_at == row.heartbeat_at
        )  # fmt: skip
        held = session.execute(
            sa.update(m)
            .where(m.id == row.id, m.state == self.working, mine)
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if held != 1:
            raise LostClaim(f"{self.kind} {row.id} is no longer this run's")
        # The loaded row says so too: the next chunk, in this transaction or after a commit,
        # proves its claim with this beat.
        set_committed_value(row, "heartbeat_at", now)

    def run(
        self,
        engine: sa.Engine,
        row_id: int,
        step: Step,
        clock: Callable[[], datetime] = now_utc,
        stop_after_chunks: int | None = None,
        should_stop: Callable[[], bool] | None = None,
    ):
        """Run the row's chunks to the end, committing each; its final state.

        None when another run holds it. `stop_after_chunks` stops early as a crash would
        (tests of resuming use it). `should_stop` is asked after each committed chunk (the
        scheduler's SIGTERM): when it says yes the run hands the row back (`hand_back`) and
        returns its state, still `working`.
        """
        with Session(engine, expire_on_commit=False) as session, running(self.kind, row_id):
            if not self.claim(session, row_id, clock()):
                return None
            row = session.get(self.model, row_id)
            chunks = 0
            try:
                while not step(session, row, clock()):
                    session.commit()
                    session.refresh(row)
                    chunks += 1
                    if stop_after_chunks is not None and chunks >= stop_after_chunks:
                        return row.state
                    if should_stop is not None and should_stop():
                        self.hand_back(session, row, clock())
                        return row.state
                session.commit()
            except LostClaim:
                session.rollback()
                return None
            except Exception as exc:  # recorded on the row; the log has the trace
                log.exception("%s %s failed", self.kind, row_id)
                session.rollback()
                row = session.get(self.model, row_id)
                row.state = self.failed
                row.error = str(exc)[:500] if isinstance(exc, ValidationError) else self.failure
                session.commit()
            session.refresh(row)
            return row.state

    def hand_back(self, session: Session, row, now: datetime) -> None:
        """This run stops between two chunks on purpose: the next run may take the row at once.

        Its heartbeat is set as if it had been silent for `stale_after` (the page says
        "stalled, resuming…", which it is). Only while this run still holds the row.
        """
        m = self.model
        session.execute(
            sa.update(m)
            .where(m.id == row.id, m.state == self.working, m.heartbeat_at == row.heartbeat_at)
            .values(heartbeat_at=now - self.stale_after - timedelta(seconds=1))
            .execution_options(synchronize_session=False)
        )
        session.commit()

    def resume(
        self,
        session: Session,
        now: datetime,
        run_one: Callable[[int], Any],
        should_stop: Callable[[], bool] | None = None,
    ) -> list:
        """Resume every row whose run died or never started; (id, final state) each. Once
        `should_stop()` says yes no further row is started (`run_one` passes it to the run
        under way)."""
        m = self.model
        ids = session.scalars(
            sa.select(m.id)
            .where(
                m.state == self.working, self.unclaimed(now), m.created_at < now - self.stale_after
            )
            .order_by(m.id)
        ).all()
        session.commit()
        results = []
        for row_id in ids:
            if should_stop is not None and should_stop():
                break
            results.append((row_id, run_one(row_id)))
        return results
