"""What a request applies to: the selection frozen at filing, and its eligibility now.

A mass opt-in freezes the non-marketable addresses of a contact selection; an undo freezes
the addresses a mass opt-out changed that are still opted out by that very batch. Freezing
goes a chunk of addresses at a time, in address-id order (`freezing`). The same
eligibility conditions serve the filing form, the agent's preview and approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationError
from ..mass_actions import Direction, preview, prior_statuses, skip_reason_sql
from ..models import (
    ConsentRequest,
    Contact,
    EmailAddress,
    EmailField,
    MassAction,
    MassActionKind,
    MassActionState,
    RequestAddress,
    RequestFreeze,
    RequestKind,
    RequestState,
    StatusEvent,
)
from ..models.requests import OPEN_STATES
from ..selection import ContactFilter, address_conditions, describe, filter_to_json
from ..statuses import (
    ELIGIBLE_FOR_MASS_OPT_IN,
    UNDOABLE,
    Offer,
    skip_reasons,
)


@dataclass(frozen=True)
class SelectionSummary:
    """How many addresses a request covers, how many are eligible and why the rest are not."""

    total: int
    eligible: int
    skipped_by_reason: dict[str, int]

    @property
    def skipped(self) -> int:
        """Addresses that are not eligible."""
        return self.total - self.eligible


def _summary(counts: dict[str | None, int]) -> SelectionSummary:
    """Counts keyed by skip reason (None = eligible) into a summary, largest reason first."""
    reasons = {r: n for r, n in counts.items() if r is not None and n}
    return SelectionSummary(
        total=sum(counts.values()),
        eligible=counts.get(None, 0),
        skipped_by_reason=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def _count_reasons(session: Session, reasons: sa.Select) -> SelectionSummary:
    """Group a one-column SELECT of skip reasons (NULL = eligible) into a summary."""
    sub = reasons.subquery()
    rows = session.execute(sa.select(sub.c.reason, sa.func.count()).group_by(sub.c.reason))
    return _summary(dict(rows.all()))


def latest_batch_of_address(
    address_id: sa.ColumnElement = EmailAddress.id, through: int | None = None
) -> sa.ScalarSelect:
    """The mass action (or NULL) of the latest status event of an address: by default the
    enclosing query's address, now; with `through`, as it stood at that event id."""
    latest = sa.select(StatusEvent.mass_action_id).where(StatusEvent.address_id == address_id)
    if through is not None:
        latest = latest.where(StatusEvent.id <= through)
    return (
        latest.order_by(StatusEvent.id.desc())
        .limit(1)
        .correlate_except(StatusEvent)
        .scalar_subquery()
    )


def still_from_batch(
    mass_action_id: int,
    status: sa.ColumnElement = EmailAddress.status,
    latest_batch: sa.ColumnElement | None = None,
) -> sa.ColumnElement:
    """An address is still opted out by this batch (no event since): by default the
    enclosing query's address now; `status` and `latest_batch` give another moment's."""
    if latest_batch is None:
        latest_batch = latest_batch_of_address()
    return sa.and_(status.in_(UNDOABLE), latest_batch == mass_action_id)


def is_eligible_for_opt_in(
    status: sa.ColumnElement = EmailAddress.status,
) -> sa.ColumnElement[bool]:
    """SQL: an address of this status may be opted in by an approved request."""
    return status.in_(ELIGIBLE_FOR_MASS_OPT_IN)


def opt_in_skip_reason(status: sa.ColumnElement = EmailAddress.status) -> sa.ColumnElement:
    """SQL: why an address in an opt-in selection is not eligible (by its status)."""
    return skip_reason_sql(Offer.mass_opt_in, status)


def undo_skip_reason(status: sa.ColumnElement = EmailAddress.status) -> sa.ColumnElement:
    """SQL: why an address of an undone batch is not restored (by its status)."""
    return skip_reason_sql(Offer.undo_opt_out, status)


def opt_in_reason(status: sa.ColumnElement = EmailAddress.status) -> sa.ColumnElement:
    """SQL: NULL when an approved opt-in would change the address, else why it would not."""
    return sa.case((is_eligible_for_opt_in(status), None), else_=opt_in_skip_reason(status))


def undo_reason(
    mass_action_id: int,
    status: sa.ColumnElement = EmailAddress.status,
    latest_batch: sa.ColumnElement | None = None,
) -> sa.ColumnElement:
    """SQL: NULL when an approved undo of the batch restores the address, else why not."""
    return sa.case(
        (still_from_batch(mass_action_id, status, latest_batch), None),
        else_=undo_skip_reason(status),
    )


def request_reason(
    req: ConsentRequest,
    status: sa.ColumnElement = EmailAddress.status,
    latest_batch: sa.ColumnElement | None = None,
) -> sa.ColumnElement:
    """SQL: NULL when approving `req` would change an address of this status (and, for an
    undo, latest batch), else why not: the one rule behind the preview, the kept count and
    the approval."""
    if req.kind is RequestKind.undo_opt_out:
        return undo_reason(req.mass_action_id, status, latest_batch)
    return opt_in_reason(status)


class Target(Protocol):
    """Something a customer can file a request about."""

    kind: RequestKind
    account_id: int

    def summary(self, session: Session) -> SelectionSummary: ...
    def describe(self, session: Session) -> str: ...
    def field_values(self, session: Session) -> str: ...
    def check(self, session: Session) -> None: ...
    def frozen_selection(self, session: Session) -> dict: ...
    def freeze_chunk(
        self, session: Session, request_id: int, freeze: RequestFreeze, limit: int
    ) -> tuple[int, int | None]: ...


@dataclass(frozen=True)
class OptInTarget:
    """The non-marketable addresses in some fields of a contact selection."""

    flt: ContactFilter
    fields: tuple[EmailField, ...]
    kind: RequestKind = RequestKind.mass_opt_in
    mass_action_id: None = None

    @property
    def account_id(self) -> int:
        """The account the selection belongs to."""
        return self.flt.account_id

    def summary(self, session: Session) -> SelectionSummary:
        """Addresses in the selection now, by eligibility."""
        by_status = preview(session, self.flt, self.fields, Direction.opt_in).by_status
        wording = skip_reasons(Offer.mass_opt_in)  # eligible statuses have no wording
        counts: dict[str | None, int] = {}
        for status, n in by_status.items():
            counts[wording.get(status)] = counts.get(wording.get(status), 0) + n
        return _summary(counts)

    def describe(self, session: Session) -> str:
        """The selection in words."""
        return describe(session, self.flt)

    def field_values(self, session: Session) -> str:
        """Comma-separated field values."""
        return ",".join(f.value for f in self.fields)

    def check(self, session: Session) -> None:
        """Nothing beyond the selection itself to check."""
        if not self.fields:
            raise ValidationError("fields", "choose at least one email field")

    def frozen_selection(self, session: Session) -> dict:
        """The selection as it stands at filing, for the freeze's row (`RequestFreeze`): the
        filter, the fields, and the newest contact and address (ids only grow, so what
        existed at filing is what lies up to these)."""
        newest_contact = sa.select(sa.func.max(Contact.id)).where(
            Contact.account_id == self.account_id
        )
        return {
            "selection_filter": filter_to_json(self.flt),
            "fields": self.field_values(session),
            "last_contact_id": session.scalar(newest_contact) or 0,
            "last_address_id": session.scalar(sa.select(sa.func.max(EmailAddress.id))) or 0,
        }

    def freeze_chunk(
        self, session: Session, request_id: int, freeze: RequestFreeze, limit: int
    ) -> tuple[int, int | None]:
        """Record the next `limit` eligible addresses of the selection after the cursor, in
        address-id order, in one INSERT … SELECT … LIMIT (the selection read once); (how many,
        the chunk's last address id, read back along the key, or None when it was the last).
        Contacts and addresses added since filing are left out."""
        a = EmailAddress
        conds = [
            *address_conditions(self.flt, self.fields),
            is_eligible_for_opt_in(),
            a.id > freeze.frozen_through,
            a.id <= freeze.last_address_id,
            a.contact_id <= freeze.last_contact_id,
        ]
        select = sa.select(sa.literal(request_id).label("request_id"), a.id, a.field, a.status)
        frozen = session.execute(
            sa.insert(RequestAddress)
            .from_select(
                ["request_id", "address_id", "field", "status_at_filing"],
                select.where(*conds).order_by(a.id).limit(limit),
            )
            .execution_options(preserve_rowcount=True)  # INSERT rowcount is opt-in in SA 2
        ).rowcount
        if frozen < limit:
            return frozen, None
        ra = RequestAddress
        return frozen, session.scalar(
            sa.select(sa.func.max(ra.address_id)).where(ra.request_id == request_id)
        )


@dataclass(frozen=True)
class UndoTarget:
    """The addresses an earlier mass opt-out of the same account changed."""

    account_id: int
    mass_action_id: int
    kind: RequestKind = RequestKind.undo_opt_out

    def batch(self, session: Session) -> MassAction:
        """The named mass opt-out, or NotFound when it is another account's or not one."""
        batch = session.get(MassAction, self.mass_action_id)
        if batch is None or batch.account_id != self.account_id:
            raise NotFound(f"mass action {self.mass_action_id} does not exist")
        if batch.kind is not MassActionKind.opt_out:
            raise ValidationError(None, "only a mass opt-out can be undone")
        if batch.state is MassActionState.applying:
            raise ValidationError(
                None, f"mass opt-out #{batch.id} is still being applied: ask for its undo once done"
            )
        return batch

    def summary(self, session: Session) -> SelectionSummary:
        """The batch's addresses now: still opted out by it (eligible) or why not; its kept
        count plus the changes since (`kept_eligibility`)."""
        from . import kept_eligibility  # it builds on this module

        kept = kept_eligibility.of_batch(self.account_id, self.mass_action_id, self.whole)
        return kept_eligibility.counted(session, kept, self.batch(session))

    def whole(self, session: Session) -> SelectionSummary:
        """The same, counted from scratch over every address the batch changed."""
        item = prior_statuses(self.mass_action_id).subquery()
        return _count_reasons(
            session,
            sa.select(undo_reason(self.mass_action_id).label("reason"))
            .select_from(item)
            .join(EmailAddress, EmailAddress.id == item.c.address_id),
        )

    def describe(self, session: Session) -> str:
        """The batch in words."""
        batch = self.batch(session)
        return f"mass opt-out #{batch.id} of {batch.created_at:%Y-%m-%d} ({batch.selection})"[:500]

    def field_values(self, session: Session) -> str:
        """The fields the batch covered."""
        return self.batch(session).fields

    def covering_request(self, session: Session) -> ConsentRequest | None:
        """The undo of this batch that is open or approved (at most one), if any."""
        return session.scalar(
            sa.select(ConsentRequest)
            .where(
                ConsentRequest.mass_action_id == self.mass_action_id,
                ConsentRequest.state.in_([*OPEN_STATES, RequestState.approved]),
            )
            .order_by(ConsentRequest.id.desc())
            .limit(1)
        )

    def check(self, session: Session) -> None:
        """The batch is this account's, and no other undo of it is open or approved."""
        self.batch(session)
        other = self.covering_request(session)
        if other is not None:
            raise ValidationError(
                None, f"request {other.number} already covers mass opt-out #{self.mass_action_id}"
            )

    def frozen_selection(self, session: Session) -> dict:
        """For the freeze's row: the batch's fields (the batch itself is named on the
        request, and its addresses are fixed since it finished)."""
        return {"fields": self.field_values(session)}

    def freeze_chunk(
        self, session: Session, request_id: int, freeze: RequestFreeze, limit: int
    ) -> tuple[int, int | None]:
        """Record the batch's next `limit` addresses after the cursor (address-id order) that
        are still opted out by it, with their prior status (its snapshot: `prior_statuses`);
        (how many recorded, the chunk's last address id or None when it was the last)."""
        snapshot = prior_statuses(self.mass_action_id)
        address = snapshot.selected_columns.address_id
        end = session.scalar(
            snapshot.with_only_columns(address)
            .where(address > freeze.frozen_through)
            .order_by(address)
            .offset(limit - 1)
            .limit(1)
        )
        chunk = snapshot.where(address > freeze.frozen_through)
        if end is not None:
            chunk = chunk.where(address <= end)
        item = chunk.subquery()
        select = (
            sa.select(
                sa.literal(request_id).label("request_id"),
                item.c.address_id,
                EmailAddress.field,
                EmailAddress.status,
                item.c.prior_status,
            )
            .join(EmailAddress, EmailAddress.id == item.c.address_id)
            .where(still_from_batch(self.mass_action_id))
        )
        frozen = session.execute(
            sa.insert(RequestAddress)
            .from_select(
                ["request_id", "address_id", "field", "status_at_filing", "prior_status"], select
            )
            .execution_options(preserve_rowcount=True)  # INSERT rowcount is opt-in in SA 2
        ).rowcount
        return frozen, end


def eligibility_now(session: Session, req: ConsentRequest) -> SelectionSummary:
    """The frozen selection as approval would see it at this moment, counted whole (the
    pages read the count kept up to date instead: `requests.kept_eligibility`)."""
    return _count_reasons(
        session,
        sa.select(request_reason(req).label("reason"))
        .select_from(RequestAddress)
        .join(EmailAddress, EmailAddress.id == RequestAddress.address_id)
        .where(RequestAddress.request_id == req.id),
    )
