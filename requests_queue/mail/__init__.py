"""Email delivery: the outbox sender and its SMTP transport (no Flask here)."""

from .sender import (
    DEFAULT_POLICY,
    DeliveryReport,
    RetryPolicy,
    claim_batch,
    deliver_outbox,
    reclaim_stuck,
    send_claimed,
)
from .transport import SmtpSettings, SmtpTransport, settings_from_config


def transport_from_config(config) -> SmtpTransport | None:
    """An SMTP transport from SMTP_* settings, or None when no SMTP_HOST is configured."""
    settings = settings_from_config(config)
    return SmtpTransport(settings) if settings is not None else None


__all__ = [
    "DEFAULT_POLICY",
    "DeliveryReport",
    "RetryPolicy",
    "SmtpSettings",
    "SmtpTransport",
    "claim_batch",
    "deliver_outbox",
    "reclaim_stuck",
    "send_claimed",
    "settings_from_config",
    "transport_from_config",
]
