"""One claimed batch of the outbox sender: one SMTP connection, one commit per group.

See requests_queue/mail/sender.py for the delivery guarantee this implements. Every message
that leaves goes through `Batch.run`, which first withdraws what is no longer wanted
(withdrawal.py), so no way of sending can skip that check.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from ..campaigns.links import hide_recipient_links
from ..models.outbox import OutboxMessage, OutboxState
from .transport import Failure, build_message, classify, classify_connect
from .transport import close_quietly as _close
from .withdrawal import withdraw_unwanted

log = logging.getLogger(__name__)
M = OutboxMessage
T = OutboxMessage.__table__
# The two writes of the hot path, built once (building a statement costs more than running it).
_HAND_OVER = (
    sa.update(T)
    .where(
        T.c.id.in_(sa.bindparam("message_ids", expanding=True)),
        T.c.claimed_by == sa.bindparam("token"),
        T.c.state == OutboxState.sending,
    )
    .values(handed_over_at=sa.bindparam("now", type_=T.c.handed_over_at.type))
    .returning(T.c.id)
)
GROUP = 10  # messages handed over per commit; a crash leaves at most this many uncertain
# Only the claim's owner writes an outcome; a late "sent" corrects an "uncertain" mark.
_OUTCOME = (
    sa.update(T)
    .where(T.c.id == sa.bindparam("message_id"), T.c.claimed_by == sa.bindparam("token"))
    .values(
        state=sa.bindparam("state", type_=T.c.state.type),
        attempts=sa.bindparam("attempts"),
        last_error=sa.bindparam("last_error"),
        sent_at=sa.bindparam("sent_at", type_=T.c.sent_at.type),
        next_attempt_at=sa.func.coalesce(
            sa.bindparam("next_attempt_at", type_=T.c.next_attempt_at.type), T.c.next_attempt_at
        ),
        claimed_by=None,
        claimed_at=None,
        handed_over_at=None,
    )
)
_NO_OUTCOME = {"sent_at": None, "next_attempt_at": None, "last_error": ""}


class Batch:
    """One claimed batch sent over one reused SMTP connection, `group` messages per commit."""

    def __init__(
        self, session, transport, token, clock, policy, report, group=GROUP, should_stop=None
    ):
        self.session, self.transport, self.token = session, transport, token
        self.clock, self.policy, self.report = clock, policy, report
        self.should_stop = should_stop or (lambda: False)
        self.group = max(1, group)
        self.conn = None
        self.unsaved: list[tuple[int, dict]] = []  # outcomes waiting for the next commit

    def run(self, ids: list[int]) -> None:
        """Withdraw the claimed messages no longer wanted, then send the rest in id order."""
        withdrawn = withdraw_unwanted(self.session, self.token, ids)
        self.report.withdrawn += len(withdrawn)
        ids = [i for i in ids if i not in withdrawn]
        rows = self.session.execute(
            sa.select(
                M.id,
                M.to_address,
                M.subject,
                M.body_text,
                M.body_html,
                M.headers,
                M.attempts,
                M.created_at,
                M.kind,
            )
            .where(M.id.in_(ids))
            .order_by(M.id)
        ).all()
        self.session.commit()  # the withdrawals too, before anything is handed over
        position = 0
        try:
            while position < len(rows):
                failure = self._connect()
                if failure is None:
                    group = rows[position : position + self.group]
                    owned = self._hand_over([r.id for r in group])
                    for row in group:
                        if self.should_stop():
                            # Shutdown: stop between two messages, within one SMTP answer.
                            # What is left was never handed to the server: back in line.
                            self.report.stopped = True
                            self._save_quietly([r.id for r in rows[position:]])
                            return
                        if row.id in owned:  # else the claim was taken over: not ours to send
                            failure = self._send(row)
                            if failure is not None:
                                break
                        position += 1
                if failure is not None:  # no connection: what is left waits for a retry
                    self.report.connect_error = failure.error
                    for waiting in rows[position:]:
                        self._keep(waiting, failure)
                    break
            self._save()
        except BaseException:
            # Interrupted (Ctrl-C, shutdown, a database error): keep the outcomes we know and
            # put back what was never sent; the message in flight stays for the reclaim.
            self.session.rollback()
            self._save_quietly([r.id for r in rows[position + 1 :]])
            raise
        finally:
            _close(self.conn)

    def _connect(self) -> Failure | None:
        """Open the batch's connection if it is not open; a Failure if that is impossible."""
        if self.conn is None:
            try:
                self.conn = self.transport.connect()
            except Exception as exc:
                return classify_connect(exc)
        return None

    def _hand_over(self, message_ids: list[int]) -> set[int]:
        """Commit the outcomes so far with the hand-over marks of the next group."""
        self._write_unsaved()
        params = {"message_ids": message_ids, "token": self.token, "now": self.clock()}
        owned = set(self.session.execute(_HAND_OVER, params).scalars())
        self.session.commit()
        self.unsaved.clear()
        return owned

    def _send(self, row) -> Failure | None:
        """Hand one message over and keep its outcome; a Failure when no connection opens."""
        now = self.clock()
        try:
            message = build_message(
                message_id=row.id,
                created_at=row.created_at,
                mail_from=self.transport.settings.mail_from,
                to=row.to_address,
                subject=row.subject,
                text=row.body_text,
                html=row.body_html,
                headers=row.headers,
                now=now,
            )
        except (ValueError, TypeError) as exc:
            self._keep(row, Failure(f"could not build the message: {exc}", temporary=False))
            return None
        failure = self._connect()  # again after a lost connection
        if failure is not None:
            return failure
        try:
            self.transport.send(self.conn, message, row.to_address)
        except Exception as exc:
            failure = classify(exc)
            if failure.connection_lost:
                _close(self.conn)
                self.conn = None
            self._keep(row, failure)
        else:
            self.report.sent += 1
            values = {"state": OutboxState.sent, "sent_at": now, "attempts": row.attempts + 1}
            self.unsaved.append((row.id, values))
        return None

    def _keep(self, row, failure: Failure) -> None:
        """Record a failed try: back to pending with backoff, or failed for good."""
        attempts = row.attempts + 1
        # A content filter's refusal may quote the link it disliked; the error is shown to
        # managers, stored with job runs and logged, so the recipient's token is hidden first.
        error = hide_recipient_links(failure.error)
        if failure.temporary and attempts < self.policy.max_attempts:
            self.report.retrying += 1
            values = {
                "state": OutboxState.pending,
                "next_attempt_at": self.clock() + self.policy.delay(attempts),
                "last_error": error[:1000],
            }
        else:
            self.report.failed += 1
            if len(self.report.errors) < 20:
                self.report.errors.append(error)
            if failure.temporary:
                error = f"gave up after {attempts} tries: {error}"
            log.warning("outbox message %s (%s) not sent: %s", row.id, row.kind, error)
            values = {"state": OutboxState.failed, "last_error": error[:1000]}
        self.unsaved.append((row.id, {**values, "attempts": attempts}))

    def _write_unsaved(self) -> None:
        if self.unsaved:
            self.session.execute(
                _OUTCOME,
                [
                    {**_NO_OUTCOME, **values, "message_id": message_id, "token": self.token}
                    for message_id, values in self.unsaved
                ],
            )

    def _save(self) -> None:
        self._write_unsaved()
        self.session.commit()
        self.unsaved.clear()

    def _save_quietly(self, unsent_ids: list[int]) -> None:
        try:
            self._write_unsaved()
            self.session.execute(
                sa.update(T)
                .where(T.c.id.in_(unsent_ids), T.c.claimed_by == self.token)
                .values(
                    state=OutboxState.pending,
                    claimed_by=None,
                    claimed_at=None,
                    handed_over_at=None,
                )
            )
            self.session.commit()
        except Exception:  # best effort: the claim timeout recovers them anyway
            self.session.rollback()
