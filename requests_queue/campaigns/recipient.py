"""What a recipient's click does: confirm (double opt-in) or unsubscribe, with proof.

Status changes go through `change_status` with the recipient as actor and the campaign as
cause; the event's note records when, from which IP and with which browser, as proof of
consent. A confirmation only ever moves `single_opt_in` → `double_opt_in`: a click on an
address that has since opted out (or bounced) changes nothing, because an old email is no
proof that the person wants mail again.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import Conflict, InvalidTransition
from ..models import Account, EmailAddress
from ..models.campaigns import Campaign, CampaignRecipient
from ..status_changes import change_status, lock_account
from ..statuses import (
    Actor,
    ActorKind,
    Cause,
    EmailStatus,
    EventChannel,
    Offer,
    allowed_sources,
    is_eligible,
)
from .tokens import LinkError, LinkInvalid, Purpose, read_claims, verify_token

S = EmailStatus
RECIPIENT = Actor(ActorKind.recipient)


class Outcome(enum.Enum):
    """What a link did (or would do); each has its own page."""

    can_confirm = "can_confirm"  # valid, not used yet: the page offers the button
    confirmed = "confirmed"
    already_confirmed = "already_confirmed"  # double opt-in already, by another link
    used = "used"  # this confirmation link was used before
    no_longer_subscribed = "no_longer_subscribed"  # opted out or bounced since the email
    can_unsubscribe = "can_unsubscribe"
    unsubscribed = "unsubscribed"
    already_unsubscribed = "already_unsubscribed"
    expired = "expired"
    invalid = "invalid"


@dataclass(frozen=True)
class ConsentProof:
    """Where a click came from, kept on the status event (its columns and its note)."""

    ip: str
    user_agent: str
    # The unsubscribe page's button, or the mail program's RFC 8058 one-click POST.
    channel: EventChannel = EventChannel.recipient_link

    def note(self, action: str, campaign_id: int, now: datetime) -> str:
        """One line for the event; the user agent last, so a long one is what gets cut."""
        return (
            f"{action} by the recipient's click on the link of campaign #{campaign_id} "
            f"at {now:%Y-%m-%d %H:%M:%S} UTC; IP {self.ip or 'unknown'}; "
            f"user agent {self.user_agent or 'unknown'}"
        )


@dataclass(frozen=True)
class LinkResult:
    """The outcome, with what the page shows: the address and whose list it is."""

    outcome: Outcome
    address: str = ""
    account_name: str = ""


def _load(session: Session, secret: str, token: str, purpose: Purpose, now: datetime):
    """The recipient a valid token names; LinkError otherwise."""
    claims = read_claims(token, purpose)
    recipient = session.scalar(
        sa.select(CampaignRecipient).where(
            CampaignRecipient.campaign_id == claims.campaign_id,
            CampaignRecipient.address_id == claims.address_id,
        )
    )
    if recipient is None or recipient.token_nonce != claims.nonce:
        raise LinkInvalid("this link is not one of ours")
    verify_token(secret, token, purpose, recipient.address, now)
    return recipient


def _result(session: Session, recipient: CampaignRecipient, outcome: Outcome) -> LinkResult:
    campaign = session.get(Campaign, recipient.campaign_id)
    account = session.get(Account, campaign.account_id)
    return LinkResult(outcome, recipient.address, account.name)


def _locked_address(session: Session, recipient: CampaignRecipient) -> EmailAddress:
    """The recipient's address, its account locked and its status read again under the lock,
    so what the click decides and what it writes see the same status."""
    address = session.get(EmailAddress, recipient.address_id)
    lock_account(session, address.account_id)
    session.refresh(address, ["status"])
    return address


def _change_by_click(
    session: Session,
    recipient: CampaignRecipient,
    address: EmailAddress,
    to: EmailStatus,
    action: str,
    now: datetime,
    proof: ConsentProof,
) -> None:
    """Move the address to `to` as the recipient, the campaign as cause, the click as proof."""
    change_status(
        session,
        address,
        to,
        Actor(ActorKind.recipient, channel=proof.channel),
        now,
        Cause(campaign_id=recipient.campaign_id),
        note=proof.note(action, recipient.campaign_id, now),
        client_ip=proof.ip or None,
        user_agent=proof.user_agent or None,
    )


def _confirm_outcome(recipient: CampaignRecipient, status: EmailStatus) -> Outcome:
    if recipient.token_used_at is not None:
        return Outcome.used
    if status is S.double_opt_in:
        return Outcome.already_confirmed
    if not is_eligible(Offer.double_opt_in, status):
        return Outcome.no_longer_subscribed
    return Outcome.can_confirm


def _inspect(
    session: Session,
    secret: str,
    token: str,
    purpose: Purpose,
    now: datetime,
    outcome_of: Callable[[CampaignRecipient, EmailStatus], Outcome],
) -> LinkResult:
    """What a link would do to its address as it is now, changing nothing."""
    try:
        recipient = _load(session, secret, token, purpose, now)
    except LinkError as exc:
        return LinkResult(Outcome(exc.reason))
    status = session.get(EmailAddress, recipient.address_id).status
    return _result(session, recipient, outcome_of(recipient, status))


def inspect_confirm(session: Session, secret: str, token: str, now: datetime) -> LinkResult:
    """What a confirmation link would do, changing nothing (the GET page)."""
    return _inspect(session, secret, token, Purpose.confirm, now, _confirm_outcome)


def confirm_address(
    session: Session, secret: str, token: str, now: datetime, proof: ConsentProof
) -> LinkResult:
    """Confirm the link's address (single → double opt-in) once; flush, the caller commits.

    Raises Conflict if another click used the link at the same moment (the caller rolls back).
    """
    try:
        recipient = _load(session, secret, token, Purpose.confirm, now)
    except LinkError as exc:
        return LinkResult(Outcome(exc.reason))
    address = _locked_address(session, recipient)
    session.refresh(recipient, ["token_used_at"])
    outcome = _confirm_outcome(recipient, address.status)
    if outcome is not Outcome.can_confirm:
        return _result(session, recipient, outcome)
    try:
        _change_by_click(session, recipient, address, S.double_opt_in, "Confirmed", now, proof)
    except InvalidTransition:  # raised before any write: nothing to undo
        return _result(session, recipient, Outcome.no_longer_subscribed)
    # Usable once: of two racing clicks only one UPDATE finds the link unused.
    claimed = session.execute(
        sa.update(CampaignRecipient)
        .where(CampaignRecipient.id == recipient.id, CampaignRecipient.token_used_at.is_(None))
        .values(token_used_at=now, confirmed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict("this confirmation link was used at the same moment")
    session.expire(recipient)
    return _result(session, recipient, Outcome.confirmed)


def _unsubscribe_outcome(recipient: CampaignRecipient, status: EmailStatus) -> Outcome:
    if _cannot_unsubscribe(status):
        return Outcome.already_unsubscribed
    return Outcome.can_unsubscribe


def inspect_unsubscribe(session: Session, secret: str, token: str, now: datetime) -> LinkResult:
    """Whether an unsubscribe link works, changing nothing (the GET page)."""
    return _inspect(session, secret, token, Purpose.unsubscribe, now, _unsubscribe_outcome)


def _cannot_unsubscribe(status: EmailStatus) -> bool:
    """Already opted out by the recipient, or a final status that gets no mail anyway."""
    return status not in allowed_sources(RECIPIENT, S.opted_out_by_recipient)


def unsubscribe_address(
    session: Session, secret: str, token: str, now: datetime, proof: ConsentProof
) -> LinkResult:
    """Opt the link's address out for the recipient; repeat clicks are harmless. Flush only."""
    try:
        recipient = _load(session, secret, token, Purpose.unsubscribe, now)
    except LinkError as exc:
        return LinkResult(Outcome(exc.reason))
    address = _locked_address(session, recipient)
    outcome = Outcome.already_unsubscribed
    if not _cannot_unsubscribe(address.status):
        try:
            _change_by_click(
                session, recipient, address, S.opted_out_by_recipient, "Unsubscribed", now, proof
            )
            outcome = Outcome.unsubscribed
        except InvalidTransition:
            pass  # raised before any write: it moved meanwhile to a status that gets no mail
    if recipient.unsubscribed_at is None:
        recipient.unsubscribed_at = now
    session.flush()
    return _result(session, recipient, outcome)
