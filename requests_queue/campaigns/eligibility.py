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
from ..models.campaigns import Campaign, CampaignRecipient
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


# Each timing rule is a small set read once per statement (an uncorrelated IN: SQLite builds
# it into a temporary index, PostgreSQL hashes it), not a probe per address: at 1,000,000
# addresses the per-address EXISTS made the campaign form take 1.3 s (issue 11 §1). Each set
# is read along an index led by the account or the campaign, so it costs what is recent.


def _recently_confirmed(account_id: int, now: datetime) -> sa.ColumnElement[bool]:
    """The address was confirmed (double opt-in) in the last 30 days."""
    confirmed = sa.select(StatusEvent.address_id).where(
        StatusEvent.account_id == account_id,
        # Written into the SQL, not bound: the planners match it to the partial index.
        StatusEvent.to_status == sa.literal(S.double_opt_in.value, literal_execute=True),
        StatusEvent.created_at >= now - RECENTLY_CONFIRMED,
    )
    return EmailAddress.id.in_(confirmed)


def _recently_sent(account_id: int, now: datetime) -> sa.ColumnElement[bool]:
    """The address was sent a confirmation (written for a campaign) in the last 7 days."""
    sent = (
        sa.select(CampaignRecipient.address_id)
        .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
        .where(
            Campaign.account_id == account_id,
            CampaignRecipient.created_at >= now - RECENTLY_SENT,
        )
    )
    return EmailAddress.id.in_(sent)


def eligible_conditions(
    flt: ContactFilter, fields: tuple[EmailField, ...], now: datetime
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses on EmailAddress selecting exactly the addresses a campaign writes to."""
    return [
        *address_conditions(flt, fields),
        EmailAddress.status.in_(ELIGIBLE_FOR_DOUBLE_OPT_IN),
        ~_recently_confirmed(flt.account_id, now),
        ~_recently_sent(flt.account_id, now),
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
    """Count the selection's addresses by eligibility in one statement: the selection by
    status (along the account's status index, no per-address work), and how many of the
    eligible statuses each timing rule keeps out, each count driven by its small set."""
    selected = address_conditions(flt, fields)
    wanted = EmailAddress.status.in_(ELIGIBLE_FOR_DOUBLE_OPT_IN)
    confirmed = _recently_confirmed(flt.account_id, now)
    sent = _recently_sent(flt.account_id, now)

    def timing(key: str, *rule: sa.ColumnElement[bool]) -> sa.Select:
        return sa.select(sa.literal(key).label("reason"), sa.func.count().label("n")).where(
            *selected, wanted, *rule
        )

    by_status = (
        sa.select(sa.cast(EmailAddress.status, sa.String).label("reason"), sa.func.count())
        .where(*selected)
        .group_by(EmailAddress.status)
    )
    rows = session.execute(
        sa.union_all(
            by_status,
            timing("recently_confirmed", confirmed),
            timing("recently_sent", ~confirmed, sent),
        )
    ).all()
    eligible = {s.value for s in ELIGIBLE_FOR_DOUBLE_OPT_IN}
    by_reason: dict[str, int] = {}
    for key, n in rows:
        key = ELIGIBLE if key in eligible else key
        by_reason[key] = by_reason.get(key, 0) + n
    kept_out = by_reason.get("recently_confirmed", 0) + by_reason.get("recently_sent", 0)
    by_reason[ELIGIBLE] = by_reason.get(ELIGIBLE, 0) - kept_out
    return CampaignPreview(fields, {k: n for k, n in by_reason.items() if n})
