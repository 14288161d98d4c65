"""One event as a provider reported it, before it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models.feedback import FeedbackKind


@dataclass(frozen=True)
class Reported:
    """What a provider said about one address; `event_id` is unique within its feed."""

    event_id: str
    kind: FeedbackKind
    address: str
    occurred_at: datetime
    detail: str = ""


class BadPayload(ValueError):
    """The delivery was authentic but not in the provider's format (a 400, said why)."""
