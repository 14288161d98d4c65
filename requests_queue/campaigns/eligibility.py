"""Who may receive a double opt-in confirmation (DOMAIN.md: Double opt-in), set-based.

Only `single_opt_in` addresses: people who already gave permission. Never non-marketable,
opted-out, bounced or complaint addresses; and, to avoid pestering, never an address
confirmed in the last 30 days or sent a confirmation in the last 7.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import EmailAddress, EmailField, StatusEvent
from ..models.campaigns import CampaignRecipient
from ..selection import ContactFilter, address_conditions
from ..statuses import ELIGIBLE_FOR_DOUBLE_OPT_IN, EmailStatus, Offer, skip_reasons

S = EmailStatus
RECENTLY_CONFIRMED = timedelta(days=30)
RECENTLY_SENT = timedelta(days=7)
ELIGIBLE = "eligible"

# Keyed by status value, plus the two timing reasons that only a confirmation has.
SKIP_REASONS = {
    **{s.value: r for s, r in skip_reasons(Offer.double_opt_in).items()},
    "recently_confirmed": "Confirmed in the last 30 days",
    "recently_sent": "Sent a confirmation in the last 7 days",
}


def _recently_confirmed(now: datetime) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        StatusEvent.address_id == EmailAddress.id,
        StatusEvent.to_status == S.double_opt_in,
        StatusEvent.created_at >= now - RECENTLY_CONFIRMED,
    )


def _recently_sent(now: datetime) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        CampaignRecipient.address_id == EmailAddress.id,
        CampaignRecipient.created_at >= now - RECENTLY_SENT,
    )


def reason(now: datetime) -> sa.ColumnElement[str]:
    """Per address: 'eligible', or the key of SKIP_REASONS that keeps it out."""
    return sa.case(
        (
            EmailAddress.status.not_in(ELIGIBLE_FOR_DOUBLE_OPT_IN),
            sa.cast(EmailAddress.status, sa.String),
        ),
        (_recently_confirmed(now), sa.literal("recently_confirmed")),
        (_recently_sent(now), sa.literal("recently_sent")),
        else_=sa.literal(ELIGIBLE),
    )


def eligible_conditions(
    flt: ContactFilter, fields: tuple[EmailField, ...], now: datetime
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses on EmailAddress selecting exactly the addresses a campaign writes to."""
    return [
        *address_conditions(flt, fields),
        EmailAddress.status.in_(ELIGIBLE_FOR_DOUBLE_OPT_IN),
        ~_recently_confirmed(now),
        ~_recently_sent(now),
    ]


@dataclass(frozen=True)
class CampaignPreview:
    """How many addresses of the selection would get a confirmation, and why not the others."""

    fields: tuple[EmailField, ...]
    by_reason: dict[str, int]

    @property
    def eligible(self) -> int:
        """Addresses that would get a confirmation email."""
        return self.by_reason.get(ELIGIBLE, 0)

    @property
    def total(self) -> int:
        """Addresses in the selection's chosen fields."""
        return sum(self.by_reason.values())

    @property
    def skipped(self) -> int:
        """Addresses that would get nothing."""
        return self.total - self.eligible

    @property
    def skipped_by_reason(self) -> dict[str, int]:
        """Skipped counts by readable reason, largest first."""
        reasons = {SKIP_REASONS[k]: n for k, n in self.by_reason.items() if k != ELIGIBLE}
        return dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def preview_campaign(
    session: Session, flt: ContactFilter, fields: tuple[EmailField, ...], now: datetime
) -> CampaignPreview:
    """Count the selection's addresses by eligibility in one grouped query."""
    why = reason(now).label("reason")
    inner = sa.select(why).where(*address_conditions(flt, fields)).subquery()
    rows = session.execute(
        sa.select(inner.c.reason, sa.func.count()).group_by(inner.c.reason)
    ).all()
    return CampaignPreview(fields, {r: n for r, n in rows})
