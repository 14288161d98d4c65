"""The outbox sender: claim due messages in batches, hand them to SMTP, record each outcome.

Delivery is AT MOST ONCE. Before a message goes to the SMTP server, a commit marks it
`handed_over_at`; after the server answers, a later commit records the outcome (sent, retry
later, failed). The marks and outcomes are committed in groups of `group` messages (one
commit per group: the outcomes of the last group and the hand-over marks of the next), so a
durable commit (an fsync on PostgreSQL) is paid once per group, not once per message:

    commit: outcomes of group n-1 + hand-over marks of group n
    SMTP:   send the messages of group n, one by one, over the batch's one connection

After a crash (kill -9, power loss) the database tells which messages might have reached the
server: the `sending` rows whose `handed_over_at` is set — at most `group` per dead sender
(exactly the one in flight with group=1). Once the claim times out they are marked failed as
"delivery uncertain" for a manager to check and retry by hand; the rest of the dead run's
claim goes back to pending and is sent normally. We prefer that over at-least-once because a
duplicate confirmation email, or a duplicate "your request was approved", reaches a customer,
while an uncertain message after a crash reaches a manager on the outbox page. Nothing is
ever dropped silently.

Claims are exclusive: PostgreSQL picks rows with FOR UPDATE SKIP LOCKED, SQLite's single
writer makes the conditional UPDATE pending → sending atomic; every later write checks the
claim token, so a sender that lost its claim (reclaimed after the timeout) sends nothing more.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, scoped_session

from ..claiming import Backoff, claim_due
from ..models.outbox import OutboxMessage, OutboxState
from ..now import now_utc
from .batch import GROUP, Batch
from .transport import SmtpTransport

M = OutboxMessage
UNCERTAIN = (
    "Delivery uncertain: the sender stopped while handing this message to the SMTP server, "
    "so it may have arrived. Check with the recipient before retrying."
)


@dataclass(frozen=True)
class RetryPolicy(Backoff):
    """The outbox's backoff (`claiming.Backoff`); a message fails after `max_attempts` tries."""

    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=2)
    # A claim older than this belongs to a dead sender (a healthy batch takes seconds).
    claim_timeout: timedelta = timedelta(minutes=15)
    max_attempts: int = 10  # with the defaults about six hours of trying


DEFAULT_POLICY = RetryPolicy()


@dataclass
class DeliveryReport:
    """What one run of the sender did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0  # claims of a dead sender put back, never handed over
    uncertain: int = 0  # claims of a dead sender that may have been delivered
    withdrawn: int = 0  # claimed, then not sent: no longer wanted (see withdrawal.py)
    errors: list[str] = field(default_factory=list)  # the first few permanent failures
    connect_error: str = ""  # set when the server could not be reached; the run stops
    stopped: bool = False  # asked to stop (shutdown): what was not sent waits in the outbox

    def as_dict(self) -> dict:
        """Counts for job logs."""
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "released": self.released,
            "uncertain": self.uncertain,
            "withdrawn": self.withdrawn,
        }


Sessions = Session | scoped_session | Callable[[], Session]


def deliver_outbox(
    sessions: Sessions,
    transport: SmtpTransport | None,
    now: datetime | None = None,
    batch_size: int = 200,
    max_batches: int | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    group: int = GROUP,
    should_stop: Callable[[], bool] = lambda: False,
) -> DeliveryReport:
    """Send every due pending message (batch by batch) and return the counts.

    THE way mail leaves: the scheduler's job, `flask send-outbox` and the tests all call it.
    Each claimed batch first withdraws what is no longer wanted (withdrawal.py: a
    confirmation queued hours ago never reaches an address that has opted out since).

    `sessions` is a session (committed and left open) or a factory (a session is made and
    closed). With `transport` None (no SMTP_HOST) nothing is sent: messages stay pending.
    `now` freezes the clock for tests; by default every batch reads the clock.
    `should_stop` is asked between messages (the scheduler's shutdown): once it says yes,
    the claimed messages not yet handed over go back to pending and the run ends.
    """
    owned = not isinstance(sessions, Session | scoped_session)
    session: Session = sessions() if owned else sessions  # type: ignore[operator, assignment]
    clock = (lambda: now) if now is not None else now_utc
    report = DeliveryReport()
    try:
        report.released, report.uncertain = reclaim_stuck(session, clock(), policy)
        session.commit()
        batches = 0
        while transport is not None and (max_batches is None or batches < max_batches):
            if should_stop():
                report.stopped = True
                break
            token = uuid.uuid4().hex
            ids = claim_batch(session, token, clock(), batch_size)
            session.commit()
            if not ids:
                break
            Batch(session, transport, token, clock, policy, report, group, should_stop).run(ids)
            batches += 1
            if report.connect_error or report.stopped:
                break  # the server is unreachable (the next run tries again), or shutdown
    finally:
        if owned:
            session.close()
    return report


def send_claimed(
    session: Session,
    transport: SmtpTransport,
    token: str,
    ids: list[int],
    now: datetime | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    group: int = GROUP,
) -> DeliveryReport:
    """Send messages already claimed under `token`: one batch of `deliver_outbox`, the same
    withdrawal first (tests use it to play a slow sender whose claim was taken over)."""
    report = DeliveryReport()
    clock = (lambda: now) if now is not None else now_utc
    Batch(session, transport, token, clock, policy, report, group).run(ids)
    return report


def claim_batch(session: Session, token: str, now: datetime, size: int) -> list[int]:
    """Mark up to `size` due pending messages as sending under `token`; return their ids."""
    return claim_due(
        session, M, OutboxState.pending, OutboxState.sending, token, now, size,
        handed_over_at=None,
    )  # fmt: skip


def reclaim_stuck(
    session: Session, now: datetime, policy: RetryPolicy, timeout: timedelta | None = None
) -> tuple[int, int]:
    """Recover a dead sender's claims: (released to pending, marked failed as uncertain).

    A claim is dead once older than `timeout` (the policy's claim timeout by default; the
    scheduler that takes the lock passes zero: no other sender of its own can be alive).
    """
    timeout = policy.claim_timeout if timeout is None else timeout
    stale = sa.and_(M.state == OutboxState.sending, M.claimed_at < now - timeout)
    released = session.execute(
        sa.update(M)
        .where(stale, M.handed_over_at.is_(None))
        .values(state=OutboxState.pending, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    # claimed_by stays: if that sender is merely slow, its own outcome still lands (batch.py).
    uncertain = session.execute(
        sa.update(M)
        .where(stale, M.handed_over_at.is_not(None))
        .values(state=OutboxState.failed, attempts=M.attempts + 1, last_error=UNCERTAIN)
        .execution_options(synchronize_session=False)
    ).rowcount
    return released, uncertain
