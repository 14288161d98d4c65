"""The sender's last check: mail that is no longer wanted is withdrawn, not sent.

Every batch of the sender passes through `withdraw_unwanted` right before its first message
is handed over (batch.py); no caller can skip it. A double opt-in confirmation is queued in
bulk and may wait hours for its turn; if its address stopped being single opt-in meanwhile
(the recipient unsubscribed, bounced, or already confirmed), sending it would mail someone
who said no, so it is marked failed with the reason and the campaign page lists it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..campaigns.queueing import KIND as CONFIRMATION
from ..models import EmailAddress, OutboxMessage, OutboxState
from ..statuses import ELIGIBLE_FOR_DOUBLE_OPT_IN

NOT_SENT = "Not sent: the address is no longer single opt-in."


def withdraw_unwanted(session: Session, token: str, ids: list[int]) -> set[int]:
    """Mark failed, with the reason, the messages claimed under `token` among `ids` that are
    no longer wanted; return their ids. One UPDATE, one index probe a message; flush only.
    """
    m, a = OutboxMessage, EmailAddress
    still_wanted = sa.exists().where(
        a.account_id == m.account_id,
        a.address == m.to_address,
        a.status.in_(ELIGIBLE_FOR_DOUBLE_OPT_IN),
    )
    withdrawn = session.execute(
        sa.update(m)
        .where(
            m.id.in_(ids),
            m.claimed_by == token,
            m.state == OutboxState.sending,
            m.kind == CONFIRMATION,
            ~still_wanted,
        )
        .values(state=OutboxState.failed, last_error=NOT_SENT, claimed_by=None, claimed_at=None)
        .returning(m.id)
        .execution_options(synchronize_session=False)
    )
    return set(withdrawn.scalars())
