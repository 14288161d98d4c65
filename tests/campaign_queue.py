"""A whole double opt-in campaign queued in the caller's transaction: for tests only.

The portal records a campaign (`create_campaign`) and a background run queues it in chunks
(`run_campaign_queueing`); tests that want every message at once use this instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from requests_queue.campaigns.content import CampaignContent
from requests_queue.campaigns.links import RecipientLinks
from requests_queue.campaigns.queueing import create_campaign, queue_chunk
from requests_queue.models import EmailField
from requests_queue.models.campaigns import Campaign
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor

QUEUE_ALL = 10**12  # one chunk holds the whole selection


def queue_campaign(
    session: Session,
    flt: ContactFilter,
    fields: tuple[EmailField, ...],
    content: CampaignContent,
    actor: Actor,
    now: datetime,
    links: RecipientLinks,
    expected_count: int | None = None,
) -> Campaign:
    """Create the campaign and queue all of it in the caller's transaction; flush only."""
    campaign = create_campaign(session, flt, fields, content, actor, now, expected_count)
    while not queue_chunk(session, campaign, links, now, limit=QUEUE_ALL):
        pass
    return campaign
