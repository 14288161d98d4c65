"""Previews of a mass status change and the mass opt-out itself (DOMAIN.md: Mass actions)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import ValidationError
from .models import (
    Contact,
    EmailAddress,
    EmailField,
    MassAction,
    MassActionItem,
    MassActionKind,
    StatusEvent,
)
from .selection import ContactFilter, address_conditions, address_ids, describe
from .status_changes import change_many, lock_account
from .statuses import (
    ELIGIBLE_FOR,
    Actor,
    ActorKind,
    Cause,
    EmailStatus,
    Offer,
    is_eligible,
    skip_reasons,
)

S = EmailStatus


class Direction(enum.Enum):
    """Which way a mass action moves addresses."""

    opt_in = "opt_in"
    opt_out = "opt_out"

    @property
    def offer(self) -> Offer:
        """The rule book's name for this change (its eligible statuses and skip wording)."""
        return Offer.mass_opt_in if self is Direction.opt_in else Offer.mass_opt_out


@dataclass(frozen=True)
class Preview:
    """What a mass action would do: how many change and why the others are skipped."""

    direction: Direction
    fields: tuple[EmailField, ...]
    by_status: dict[EmailStatus, int]

    @property
    def changing(self) -> int:
        """Addresses that would change."""
        offer = self.direction.offer
        return sum(n for s, n in self.by_status.items() if is_eligible(offer, s))

    @property
    def skipped(self) -> int:
        """Addresses that would be left as they are."""
        return self.total - self.changing

    @property
    def total(self) -> int:
        """Addresses in the selection's chosen fields."""
        return sum(self.by_status.values())

    @property
    def skipped_by_reason(self) -> dict[str, int]:
        """Skipped counts grouped by a readable reason, largest first."""
        wording = skip_reasons(self.direction.offer)
        reasons: dict[str, int] = {}
        for status, n in self.by_status.items():
            if status in wording:
                reasons[wording[status]] = reasons.get(wording[status], 0) + n
        return dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def parse_fields(values: list[str]) -> tuple[EmailField, ...]:
    """The chosen email fields, in field order; at least one is required."""
    try:
        chosen = {EmailField(v) for v in values}
    except ValueError:
        raise ValidationError("fields", "choose among Email, Email 2 and Email 3") from None
    if not chosen:
        raise ValidationError("fields", "choose at least one email field")
    return tuple(f for f in EmailField if f in chosen)


def preview(
    session: Session, flt: ContactFilter, fields: tuple[EmailField, ...], direction: Direction
) -> Preview:
    """Count the selection's addresses by status in one grouped query."""
    rows = session.execute(
        sa.select(EmailAddress.status, sa.func.count())
        .where(*address_conditions(flt, fields))
        .group_by(EmailAddress.status)
    ).all()
    return Preview(direction, fields, {status: n for status, n in rows})


def skip_reason_sql(offer: Offer) -> sa.ColumnElement:
    """SQL: the rule book's reason an address is left out of `offer`, by its status."""
    return sa.case(
        {s.value: r for s, r in skip_reasons(offer).items()},
        value=EmailAddress.status,
        else_="Status changed",  # unreachable: the caller tests eligibility first
    )


def preview_rows(flt: ContactFilter, fields: tuple[EmailField, ...], direction: Direction):
    """SELECT of the addresses a preview counts, one row each in contact and field order:
    address id, contact id, first and last name, field, the address as typed, status, and
    why it would be skipped (NULL: it would change). The page shows a page of it, the CSV all."""
    offer = direction.offer
    return (
        sa.select(
            EmailAddress.id,
            EmailAddress.contact_id,
            Contact.first_name,
            Contact.last_name,
            EmailAddress.field,
            sa.func.coalesce(EmailAddress.typed_address, EmailAddress.address).label("address"),
            EmailAddress.status,
            sa.case(
                (EmailAddress.status.in_(ELIGIBLE_FOR[offer]), None), else_=skip_reason_sql(offer)
            ).label("skip_reason"),
        )
        .join(Contact, Contact.id == EmailAddress.contact_id)
        .where(*address_conditions(flt, fields))
        .order_by(EmailAddress.contact_id.desc(), EmailAddress.field, EmailAddress.id)
    )


def mass_opt_out(
    session: Session,
    flt: ContactFilter,
    fields: tuple[EmailField, ...],
    actor: Actor,
    now: datetime,
    expected_count: int,
) -> MassAction:
    """Opt out every eligible address of the selection as one batch; return the batch.

    `expected_count` is the number the customer confirmed; if the selection changed since
    the preview the numbers differ and nothing is done. The prior statuses are kept so an
    approved undo restores exactly them.
    """
    if actor.kind is not ActorKind.customer:
        raise ValidationError(None, "only the account's own users run mass opt-outs")
    lock_account(session, flt.account_id)  # the preview and the change see the same rows
    before = preview(session, flt, fields, Direction.opt_out)
    if before.changing == 0:
        raise ValidationError(None, "no address in this selection can be opted out")
    if expected_count != before.changing:
        raise ValidationError(
            "confirm_count",
            f"type {before.changing}, the number of addresses that will be opted out",
        )
    batch = MassAction(
        account_id=flt.account_id,
        user_id=actor.user_id,
        kind=MassActionKind.opt_out,
        selection=describe(session, flt)[:500],
        fields=",".join(f.value for f in fields),
        skipped_count=before.skipped,
        skipped_by_reason=before.skipped_by_reason,
        created_at=now,
    )
    session.add(batch)
    session.flush()
    moved = change_many(
        session,
        flt.account_id,
        address_ids(flt, fields),
        S.opted_out_by_user,
        actor,
        now,
        Cause(mass_action_id=batch.id),
    )
    # The events just written hold each address's prior status: copy them as the snapshot.
    session.execute(
        sa.insert(MassActionItem).from_select(
            ["mass_action_id", "address_id", "prior_status"],
            sa.select(
                StatusEvent.mass_action_id, StatusEvent.address_id, StatusEvent.from_status
            ).where(StatusEvent.mass_action_id == batch.id),
        )
    )
    batch.changed_count = moved
    session.flush()
    return batch
