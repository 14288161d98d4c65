"""A campaign's progress and results, counted from its outbox messages and recipients."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import OutboxMessage, OutboxState
from ..models.campaigns import Campaign, CampaignRecipient


@dataclass(frozen=True)
class CampaignProgress:
    """Counts a customer sees: queued, sent, failed, confirmed, unsubscribed."""

    queued: int
    waiting: int  # pending or being sent
    sent: int
    failed: int
    confirmed: int
    unsubscribed: int

    @property
    def is_done(self) -> bool:
        """Every message was sent or has failed for good."""
        return self.waiting == 0

    @property
    def handled(self) -> int:
        """Messages the sender is finished with."""
        return self.sent + self.failed


def campaign_progress(session: Session, campaign: Campaign) -> CampaignProgress:
    """One campaign's counts."""
    return progress_of(session, [campaign.id])[campaign.id]


def progress_of(session: Session, campaign_ids: list[int]) -> dict[int, CampaignProgress]:
    """Counts of several campaigns in two grouped queries: messages by state, recipients."""
    by_state: dict[int, dict] = {cid: {} for cid in campaign_ids}
    for cid, state, n in session.execute(
        sa.select(OutboxMessage.campaign_id, OutboxMessage.state, sa.func.count())
        .where(OutboxMessage.campaign_id.in_(campaign_ids))
        .group_by(OutboxMessage.campaign_id, OutboxMessage.state)
    ):
        by_state[cid][state] = n
    actions = {
        cid: (confirmed, unsubscribed)
        for cid, confirmed, unsubscribed in session.execute(
            sa.select(
                CampaignRecipient.campaign_id,
                sa.func.count(CampaignRecipient.confirmed_at),
                sa.func.count(CampaignRecipient.unsubscribed_at),
            )
            .where(CampaignRecipient.campaign_id.in_(campaign_ids))
            .group_by(CampaignRecipient.campaign_id)
        )
    }
    result = {}
    for cid, states in by_state.items():
        confirmed, unsubscribed = actions.get(cid, (0, 0))
        result[cid] = CampaignProgress(
            queued=sum(states.values()),
            waiting=states.get(OutboxState.pending, 0) + states.get(OutboxState.sending, 0),
            sent=states.get(OutboxState.sent, 0),
            failed=states.get(OutboxState.failed, 0),
            confirmed=confirmed,
            unsubscribed=unsubscribed,
        )
    return result


def failed_recipients(session: Session, campaign: Campaign, limit: int = 100) -> list:
    """(address, error) of the campaign's messages that failed for good, first `limit`."""
    return session.execute(
        sa.select(OutboxMessage.to_address, OutboxMessage.last_error)
        .where(
            OutboxMessage.campaign_id == campaign.id,
            OutboxMessage.state == OutboxState.failed,
        )
        .order_by(OutboxMessage.to_address)
        .limit(limit)
    ).all()
