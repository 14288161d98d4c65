"""Previews of a mass status change and the mass opt-out itself (DOMAIN.md: Mass actions)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .chunked import ChunkedRuns
from .errors import ValidationError
from .models import (
    Contact,
    EmailAddress,
    EmailField,
    MassAction,
    MassActionKind,
    MassActionState,
    StatusEvent,
)
from .selection import (
    ContactFilter,
    address_conditions,
    describe,
    filter_to_json,
    stored_selection,
)
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
# Contacts per chunk of a mass opt-out (one transaction each; about 50,000 addresses).
CHUNK_CONTACTS = 50_000
RUNS = ChunkedRuns(
    MassAction,
    working=MassActionState.applying,
    failed=MassActionState.failed,
    kind="mass_action",
    failure=(
        "Applying stopped because of an internal error. The addresses listed below were "
        "opted out; preview the selection again to opt out the rest."
    ),
)


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


def skip_reason_sql(
    offer: Offer, status: sa.ColumnElement = EmailAddress.status
) -> sa.ColumnElement:
    """SQL: the rule book's reason an address is left out of `offer`, by its status (the
    enclosing query's address's, or the `status` column given)."""
    return sa.case(
        {s.value: r for s, r in skip_reasons(offer).items()},
        value=status,
        else_="Status changed",  # unreachable: the caller tests eligibility first
    )


def _address_columns(offer: Offer) -> tuple:
    """A preview row's columns from the address: id, field, the address as typed, status and
    why it would be skipped (NULL: it would change)."""
    return (
        EmailAddress.id,
        EmailAddress.field,
        sa.func.coalesce(EmailAddress.typed_address, EmailAddress.address).label("address"),
        EmailAddress.status,
        sa.case(
            (EmailAddress.status.in_(ELIGIBLE_FOR[offer]), None), else_=skip_reason_sql(offer)
        ).label("skip_reason"),
    )


def preview_rows(flt: ContactFilter, fields: tuple[EmailField, ...], direction: Direction):
    """SELECT of the addresses a preview counts, one row each in contact and field order:
    address id, contact id, first and last name, field, the address as typed, status, and
    why it would be skipped (NULL: it would change). The page shows a page of it, the CSV all."""
    address_id, field, address, status, skip = _address_columns(direction.offer)
    return (
        sa.select(
            address_id,
            EmailAddress.contact_id,
            Contact.first_name,
            Contact.last_name,
            field,
            address,
            status,
            skip,
        )
        .join(Contact, Contact.id == EmailAddress.contact_id)
        .where(*address_conditions(flt, fields))
        .order_by(EmailAddress.contact_id.desc(), EmailAddress.field, EmailAddress.id)
    )


def preview_page(
    session: Session,
    flt: ContactFilter,
    fields: tuple[EmailField, ...],
    direction: Direction,
    offset: int,
    limit: int,
) -> list[sa.Row]:
    """One page of `preview_rows`, read along an index of the account instead of sorting the
    whole selection.

    Sorting every address of a million-address account to show 25 took about 0.2 s, and more
    when another large account's contacts came after it. The page's contacts are read newest
    first along an index led by the account (its contacts' ids; with a status filter, the
    addresses of that status, kept in contact order), stopping after `offset + limit` rows
    and one contact's other fields: enough to hold every address of the page's last contact,
    whatever the order of its fields, so the outer sort puts exactly the right rows on the page.
    """
    enough = offset + limit + len(EmailField) - 1
    if flt.status is None and session.get_bind().dialect.name == "postgresql":
        ahead = _by_contact(flt, fields, direction).limit(enough)
    else:
        rows = preview_rows(flt, fields, direction).order_by(None)
        if flt.status is not None:  # ix_email_addresses_account_status_contact, in order
            ahead = rows.order_by(EmailAddress.contact_id.desc())
        else:  # SQLite walks ix_contacts_account_id once the contact's account is named
            ahead = rows.where(Contact.account_id == flt.account_id).order_by(Contact.id.desc())
        ahead = ahead.limit(enough)
    page = ahead.subquery()
    query = (
        sa.select(*page.c)
        .order_by(page.c.contact_id.desc(), page.c.field, page.c.id)
        .limit(limit)
        .offset(offset)
    )
    return session.execute(query).all()


def _by_contact(flt: ContactFilter, fields: tuple[EmailField, ...], direction: Direction):
    """`preview_rows` for PostgreSQL, contact by contact newest first: the account's contacts
    along their index, each one's addresses looked up beside it. Joined plainly, PostgreSQL
    merged the whole address table in contact order, skipping every other account's rows
    (92 ms beside a second 400,000-address account); a LATERAL with a LIMIT (at most one
    address per field, so it limits nothing) cannot be merged."""
    own = (
        sa.select(*_address_columns(direction.offer))
        .where(EmailAddress.contact_id == Contact.id, *address_conditions(flt, fields))
        .limit(len(EmailField))
        .lateral()
    )
    return (
        sa.select(
            own.c.id,
            Contact.id.label("contact_id"),
            Contact.first_name,
            Contact.last_name,
            own.c.field,
            own.c.address,
            own.c.status,
            own.c.skip_reason,
        )
        .select_from(Contact)
        .join(own, sa.true())
        .where(Contact.account_id == flt.account_id)
        .order_by(Contact.id.desc())
    )


def record_opt_out(
    session: Session,
    flt: ContactFilter,
    fields: tuple[EmailField, ...],
    actor: Actor,
    now: datetime,
    expected_count: int,
) -> MassAction:
    """Record the customer's decision to opt out the selection, to be applied; flush only.

    Quick whatever the selection's size (one grouped count): `apply_chunk` does the writing,
    in the background (`mass_runs`). `expected_count` is the number the customer confirmed;
    if the selection changed since the preview the numbers differ and nothing is recorded.
    The selection is frozen: its filter, and the newest contact and address at the click.
    """
    if actor.kind is not ActorKind.customer:
        raise ValidationError(None, "only the account's own users run mass opt-outs")
    lock_account(session, flt.account_id)  # the preview and the record see the same rows
    busy = session.scalar(
        sa.select(MassAction.id).where(
            MassAction.account_id == flt.account_id,
            MassAction.state == MassActionState.applying,
        )
    )
    if busy is not None:
        raise ValidationError(
            None, f"mass opt-out #{busy} is still being applied: run the next one once it is done"
        )
    before = preview(session, flt, fields, Direction.opt_out)
    if before.changing == 0:
        raise ValidationError(None, "no address in this selection can be opted out")
    if expected_count != before.changing:
        raise ValidationError(
            "confirm_count",
            f"type {before.changing}, the number of addresses that will be opted out",
        )
    newest_contact = sa.select(sa.func.max(Contact.id)).where(Contact.account_id == flt.account_id)
    batch = MassAction(
        account_id=flt.account_id,
        user_id=actor.user_id,
        kind=MassActionKind.opt_out,
        state=MassActionState.applying,
        channel=actor.channel,
        selection=describe(session, flt)[:500],
        selection_filter=filter_to_json(flt),
        fields=",".join(f.value for f in fields),
        expected_count=before.changing,
        skipped_count=before.skipped,
        skipped_by_reason=before.skipped_by_reason,
        created_at=now,
        # Ids only grow: what existed at the click is what lies up to these.
        last_contact_id=session.scalar(newest_contact) or 0,
        last_address_id=session.scalar(sa.select(sa.func.max(EmailAddress.id))) or 0,
    )
    session.add(batch)
    session.flush()
    return batch


def apply_chunk(
    session: Session, batch: MassAction, now: datetime, limit: int = CHUNK_CONTACTS
) -> bool:
    """Opt out the eligible addresses of the batch's next `limit` contacts; flush only.

    Returns True when the whole batch is applied. Contacts go in id order from the cursor
    `applied_through`, through the newest contact at the click; addresses added since are
    left alone, and an address that stopped being eligible meanwhile is skipped by the rule
    book (`change_many`). Every event carries the decision's time and actor, and the
    events' prior statuses become the batch's snapshot, so an approved undo restores
    exactly them. The first write moves the heartbeat (`mass_runs.RUNS.beat`).
    """
    if batch.state is not MassActionState.applying:
        return True
    lock_account(session, batch.account_id)
    RUNS.beat(session, batch, now)
    flt, fields = stored_selection(batch.account_id, batch.selection_filter, batch.fields)
    through = batch.applied_through
    end = session.scalar(
        sa.select(Contact.id)
        .where(
            Contact.account_id == batch.account_id,
            Contact.id > through,
            Contact.id <= batch.last_contact_id,
        )
        .order_by(Contact.id)
        .offset(limit - 1)
        .limit(1)
    )
    upper = batch.last_contact_id if end is None else end
    a = EmailAddress
    candidates = sa.select(a.id).where(
        *address_conditions(flt, fields),
        a.contact_id > through,
        a.contact_id <= upper,
        a.id <= batch.last_address_id,
    )
    actor = Actor(ActorKind.customer, batch.user_id, batch.channel)
    cause = Cause(mass_action_id=batch.id)
    # Each event keeps the address's prior status (`from_status`): that is the batch's
    # snapshot for an undo (`prior_statuses`), with no second copy to write.
    moved = change_many(
        session, batch.account_id, candidates, S.opted_out_by_user, actor, batch.created_at, cause
    )
    batch.changed_count += moved
    batch.applied_through = upper
    if end is None or upper >= batch.last_contact_id:
        batch.state, batch.finished_at = MassActionState.done, now
        session.flush()
        _keep_undo_count(session, batch)
    session.flush()
    return batch.state is MassActionState.done


def _keep_undo_count(session: Session, batch: MassAction) -> None:
    """Keep what an undo would restore, counted once now, under the lock the chunk holds."""
    from .requests import kept_eligibility  # the requests package builds on this module
    from .requests.targets import UndoTarget

    whole = UndoTarget(batch.account_id, batch.id).whole
    kept_eligibility.keep(
        session, kept_eligibility.of_batch(batch.account_id, batch.id, whole), batch
    )


def prior_statuses(mass_action_id: int) -> sa.Select:
    """The batch's snapshot: each address a mass action changed with the status it had just
    before, its event's `from_status` (the status events' partial (mass action, address)
    index reads a range of it in address order)."""
    e = StatusEvent
    return sa.select(e.address_id, e.from_status.label("prior_status")).where(
        e.mass_action_id == mass_action_id
    )


def mass_opt_out(
    session: Session,
    flt: ContactFilter,
    fields: tuple[EmailField, ...],
    actor: Actor,
    now: datetime,
    expected_count: int,
) -> MassAction:
    """Record and apply a mass opt-out at once, in the caller's transaction; return the batch.

    What the background run does, chunk for chunk, without committing in between: for the
    demo data, the CLI and the tests that compare the two.
    """
    batch = record_opt_out(session, flt, fields, actor, now, expected_count)
    while not apply_chunk(session, batch, now):
        pass
    return batch
