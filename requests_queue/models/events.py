"""The append-only history of statuses and the mass actions that caused them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..now import now_utc
from ..statuses import ActorKind, EmailStatus, EventChannel
from .base import Base, TitledEnum, UTCDateTime, enum_column


class StatusEvent(Base):
    """One status change of one address. Rows are only ever inserted."""

    __tablename__ = "status_events"
    __table_args__ = (
        sa.Index("ix_status_events_address", "address_id", "id"),
        # A batch's events, and those one chunk of it wrote (after a known id).
        # A mass opt-out's snapshot for its undo (`mass_actions.prior_statuses`), in address
        # order; partial, so the events of everything else do not pay for it.
        sa.Index(
            "ix_status_events_mass_action",
            "mass_action_id",
            "address_id",
            sqlite_where=sa.text("mass_action_id IS NOT NULL"),
            postgresql_where=sa.text("mass_action_id IS NOT NULL"),
        ),
        # The account's recent confirmations (a campaign skips those confirmed in the last 30
        # days); partial: only double opt-in events pay for it.
        sa.Index(
            "ix_status_events_confirmations",
            "account_id",
            "created_at",
            sqlite_where=sa.text("to_status = 'double_opt_in'"),
            postgresql_where=sa.text("to_status = 'double_opt_in'"),
        ),
        # An approval's events; partial too (most events are an import's or a batch's).
        sa.Index(
            "ix_status_events_request",
            "request_id",
            sqlite_where=sa.text("request_id IS NOT NULL"),
            postgresql_where=sa.text("request_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign keys on this table (migration c5e1a9d3b702): every writer is set-based and
    # takes these from the rows it selects or from one value per statement; a per-row check
    # cost a third of a bulk change. tests/requests_queue/rulebook_invariants.check_references
    account_id: Mapped[int] = mapped_column()
    address_id: Mapped[int] = mapped_column()
    from_status: Mapped[EmailStatus | None] = mapped_column(enum_column(EmailStatus, "from_status"))
    to_status: Mapped[EmailStatus] = mapped_column(enum_column(EmailStatus, "to_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, "actor_kind"))
    actor_user_id: Mapped[int | None] = mapped_column()
    mass_action_id: Mapped[int | None] = mapped_column()
    import_batch_id: Mapped[int | None] = mapped_column()
    request_id: Mapped[int | None] = mapped_column()
    campaign_id: Mapped[int | None] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    # Proof of consent (GDPR Art. 7(1)): how the change arrived and, for a recipient's click,
    # from which IP address and browser. NULL on events recorded before these were kept.
    channel: Mapped[EventChannel | None] = mapped_column(enum_column(EventChannel, "event_channel"))
    client_ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))

    actor_user = relationship("User", primaryjoin="foreign(StatusEvent.actor_user_id) == User.id")


class MassActionKind(TitledEnum):
    """What a mass action did."""

    opt_out = ("opt_out", "Mass opt-out")


class MassActionState(TitledEnum):
    """Where applying a mass action stands."""

    applying = ("applying", "Applying")
    done = ("done", "Done")
    failed = ("failed", "Stopped")


class MassAction(Base):
    """One batch of status changes a customer ran at once (today: a mass opt-out).

    The customer's click records the batch (`applying`) with the count they confirmed and
    the selection frozen: its filter, and the newest contact and address at the click. A
    background run (`requests_queue.mass_runs`) then applies it in chunks of contacts, in
    id order, each chunk one transaction that moves `applied_through` on, so a run that dies
    is resumed where it stopped and never changes an address twice. Only a `done` batch
    reads as finished.
    """

    __tablename__ = "mass_actions"
    __table_args__ = (sa.Index("ix_mass_actions_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[MassActionKind] = mapped_column(enum_column(MassActionKind, "kind"))
    selection: Mapped[str] = mapped_column(sa.String(500))  # human-readable description
    fields: Mapped[str] = mapped_column(sa.String(40))  # comma-separated EmailField values
    changed_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    skipped_by_reason: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    state: Mapped[MassActionState] = mapped_column(
        enum_column(MassActionState, "mass_action_state"),
        default=MassActionState.done,
        server_default="done",  # rows written with plain SQL (a bench's floor) are applied
    )
    # How the customer's decision arrived (web or API): written on every event it causes.
    channel: Mapped[EventChannel | None] = mapped_column(enum_column(EventChannel, "channel"))
    selection_filter: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default="{}")
    expected_count: Mapped[int] = mapped_column(default=0, server_default="0")  # confirmed
    # The newest contact and address at the click, and the contact id the run got through.
    last_contact_id: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    last_address_id: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    applied_through: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    # What an undo would restore now, kept from the end of the run (`requests.kept_eligibility`):
    # [reason or null, count] pairs as of the status event `eligibility_through`.
    eligibility: Mapped[list | None] = mapped_column(sa.JSON)
    eligibility_through: Mapped[int | None] = mapped_column(sa.BigInteger)

    user = relationship("User")

    @property
    def percent_done(self) -> int:
        """How far applying it got, by addresses changed of those confirmed (100 when done)."""
        if self.state is MassActionState.done:
            return 100
        if not self.expected_count:
            return 0
        return min(99, 100 * self.changed_count // self.expected_count)


class AddressMerge(Base):
    """Two stored rows found to be one mailbox when addresses became canonical (rule 6).

    The row with the stricter status (`survivor_id`) keeps the mailbox; the other
    (`merged_id`) is retired: detached from its contact, its key replaced by a tombstone that
    matches nothing, its status and events untouched, so both histories stay reachable from
    the survivor. Written by the migration that introduced canonical addresses, never after.
    """

    __tablename__ = "address_merges"
    __table_args__ = (sa.Index("ix_address_merges_survivor", "survivor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    survivor_id: Mapped[int] = mapped_column(sa.ForeignKey("email_addresses.id"))
    merged_id: Mapped[int] = mapped_column(sa.ForeignKey("email_addresses.id"), unique=True)
    merged_address: Mapped[str] = mapped_column(sa.String(320))  # as it was stored
    merged_status: Mapped[EmailStatus] = mapped_column(enum_column(EmailStatus, "merged_status"))
    # The contact and field the retired row was in, if any (that field is now empty).
    merged_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    merged_field: Mapped[str | None] = mapped_column(sa.String(10))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
