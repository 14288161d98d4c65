"""Double opt-in campaigns: eligibility, queueing through the outbox, the recipient's links."""

from .content import CampaignContent, check_content, provided_content, render_preview
from .eligibility import SKIP_REASONS, CampaignPreview, preview_campaign
from .links import RecipientLinks
from .progress import CampaignProgress, campaign_progress, failed_recipients, progress_of
from .queueing import (
    create_campaign,
    is_stalled,
    resume_campaign_queueing,
    run_campaign_queueing,
)
from .recipient import (
    ConsentProof,
    LinkResult,
    Outcome,
    confirm_address,
    inspect_confirm,
    inspect_unsubscribe,
    unsubscribe_address,
)

__all__ = [
    "SKIP_REASONS",
    "CampaignContent",
    "CampaignPreview",
    "CampaignProgress",
    "ConsentProof",
    "LinkResult",
    "Outcome",
    "RecipientLinks",
    "campaign_progress",
    "check_content",
    "confirm_address",
    "create_campaign",
    "failed_recipients",
    "inspect_confirm",
    "inspect_unsubscribe",
    "preview_campaign",
    "progress_of",
    "provided_content",
    "render_preview",
    "is_stalled",
    "resume_campaign_queueing",
    "run_campaign_queueing",
    "unsubscribe_address",
]
