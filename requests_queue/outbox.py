"""Queueing email: a row in the outbox, in the caller's transaction; the sender delivers it.

Also what managers do with the outbox: see it (recipient links hidden), count it by state and
put failed messages back in line. Delivery itself is in `requests_queue.mail`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .campaigns.links import hide_recipient_links
from .errors import NotFound, ValidationError
from .models.outbox import OutboxMessage, OutboxState


def queue_email(
    session: Session,
    *,
    to: str,
    subject: str,
    text: str,
    now: datetime,
    kind: str,
    html: str | None = None,
    account_id: int | None = None,
    user_id: int | None = None,
    request_id: int | None = None,
    campaign_id: int | None = None,
    headers: dict | None = None,
) -> OutboxMessage:
    """Add one message to the outbox; it goes out only if the caller's transaction commits."""
    message = OutboxMessage(
        to_address=to,
        # A line break in a header would be refused when sending; fold it into spaces now.
        subject=" ".join(subject.split())[:300],
        body_text=text,
        body_html=html,
        kind=kind,
        account_id=account_id,
        user_id=user_id,
        request_id=request_id,
        campaign_id=campaign_id,
        headers=headers or {},
        state=OutboxState.pending,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


class StaffCopy:
    """An outbox message as staff see it: every recipient link in it hidden.

    A confirmation's links are the recipient's power: whoever holds one can confirm or
    unsubscribe, and the click is recorded as the recipient's own. Staff read the text, the
    headers and the error with the tokens replaced; the other attributes are the message's.
    """

    def __init__(self, message: OutboxMessage):
        self._message = message
        self.has_hidden_links = False
        self.subject = self._hide(message.subject)
        self.body_text = self._hide(message.body_text)
        self.body_html = self._hide(message.body_html)
        self.last_error = self._hide(message.last_error)
        self.headers = {k: self._hide(str(v)) for k, v in (message.headers or {}).items()}

    def _hide(self, text: str | None) -> str | None:
        hidden = hide_recipient_links(text) if text else text
        self.has_hidden_links |= hidden != text
        return hidden

    def __getattr__(self, name: str):
        return getattr(self._message, name)


# Failed because the sender died mid-handover (sender.reclaim_stuck keeps `handed_over_at`):
# the recipient may have the message already, so these are never retried in bulk.
UNCERTAIN = sa.and_(
    OutboxMessage.state == OutboxState.failed, OutboxMessage.handed_over_at.is_not(None)
)


def uncertain_count(session: Session) -> int:
    """How many failed messages may nevertheless have been delivered."""
    return session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(UNCERTAIN))


def state_counts(session: Session) -> dict[OutboxState, int]:
    """How many messages are in each state (every state listed, zeros included)."""
    rows = session.execute(
        sa.select(OutboxMessage.state, sa.func.count()).group_by(OutboxMessage.state)
    ).all()
    counts = dict.fromkeys(OutboxState, 0)
    counts.update({state: n for state, n in rows})
    return counts


_RETRY_VALUES = {
    "state": OutboxState.pending,
    "attempts": 0,
    "claimed_by": None,
    "claimed_at": None,
    "handed_over_at": None,
}


def retry_message(
    session: Session, message_id: int, now: datetime, *, despite_uncertain: bool = False
) -> OutboxMessage:
    """Put one failed message back in line for the sender, with a fresh set of tries.

    A message whose delivery is uncertain may already be in the recipient's mailbox: it is
    sent again only when the manager says so (`despite_uncertain`), having checked.
    """
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no outbox message {message_id}")
    if message.is_uncertain and not despite_uncertain:
        raise ValidationError(
            None,
            "this message may already have been delivered; check with the recipient, then "
            "confirm that it should be sent again",
        )
    updated = session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == OutboxState.failed)
        .values(**_RETRY_VALUES, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if updated != 1:
        raise ValidationError(None, "only a failed message can be retried")
    session.flush()
    session.expire(message)
    return message


def retry_failed(session: Session, now: datetime) -> int:
    """Put every failed message back in line (after fixing the SMTP settings, say), except
    those whose delivery is uncertain: a duplicate must be a person's decision, one by one."""
    return session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.failed, OutboxMessage.handed_over_at.is_(None))
        .values(**_RETRY_VALUES, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
