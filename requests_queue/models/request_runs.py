"""A request's background runs: applying its decision and freezing its selection, each one row
per request that the runner claims, beats and finishes (requests_queue.chunked)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..statuses import ActorKind, EventChannel
from .base import Base, TitledEnum, UTCDateTime, enum_column


class ApplyState(TitledEnum):
    """Where applying an approved request's status changes stands."""

    applying = ("applying", "Applying")
    done = ("done", "Applied")
    failed = ("failed", "Stopped")


class RequestApplication(Base):
    """Applying one approved request's changes, a chunk of its frozen addresses at a time.

    Written in the approval's transaction (the decision, its time and its agent, counted by
    the SLA at that moment). A request of up to `APPLY_INLINE_MAX` addresses is applied in that
    same transaction; a larger one by a background run (`requests.applying`), in address-id
    order from `applied_through`, each chunk one transaction, so a run that dies is resumed
    where it stopped and no address is changed twice. An approved request without a row was
    applied whole, before this table existed.
    """

    __tablename__ = "request_applications"

    id: Mapped[int] = mapped_column(  # the request's id
        sa.ForeignKey("consent_requests.id"), primary_key=True, autoincrement=False
    )
    state: Mapped[ApplyState] = mapped_column(
        enum_column(ApplyState, "apply_state"), default=ApplyState.applying
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the decision
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, "actor_kind"))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    channel: Mapped[EventChannel | None] = mapped_column(enum_column(EventChannel, "channel"))
    applied_through: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # address id cursor
    processed_count: Mapped[int] = mapped_column(default=0)  # addresses changed or skipped
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(sa.String(500), default="")

    def percent_of(self, total: int) -> int:
        """How far it got, of the request's `total` frozen addresses (100 once applied)."""
        if self.state is ApplyState.done:
            return 100
        return min(99, 100 * self.processed_count // total) if total else 0


class FreezeState(TitledEnum):
    """Where recording a filed request's selection (its frozen addresses) stands."""

    freezing = ("freezing", "Recording")
    done = ("done", "Recorded")
    failed = ("failed", "Stopped")


class RequestFreeze(Base):
    """Recording a filed request's addresses, a chunk at a time (`requests.freezing`).

    Written with the request at filing: the selection as it stood then (its filter and
    fields, and the newest contact and address of the account, for an opt-in; the batch,
    named on the request, for an undo). A selection of up to `FREEZE_INLINE_MAX` eligible
    addresses is recorded in the filing's own transaction; a larger one by a background
    run, in address-id order from `frozen_through`, each chunk one transaction, so a run
    that dies is resumed where it stopped and no address is recorded twice. The request
    cannot be approved before this is done. A request without a row was frozen whole,
    before this table existed.
    """

    __tablename__ = "request_freezes"

    id: Mapped[int] = mapped_column(  # the request's id
        sa.ForeignKey("consent_requests.id"), primary_key=True, autoincrement=False
    )
    state: Mapped[FreezeState] = mapped_column(
        enum_column(FreezeState, "freeze_state"), default=FreezeState.freezing
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the filing
    selection_filter: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    fields: Mapped[str] = mapped_column(sa.String(40), default="")  # comma-separated
    last_contact_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_address_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    expected_count: Mapped[int] = mapped_column(default=0)  # eligible at filing
    frozen_through: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # address id cursor
    frozen_count: Mapped[int] = mapped_column(default=0)  # addresses recorded so far
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(sa.String(500), default="")
    # The selection's eligibility now, kept so a page need not count every address
    # (`requests.kept_eligibility`): [reason or null, count] pairs as of the status event
    # `eligibility_through` (every status change of the account up to it, none after).
    # While recording (`eligibility` None): the newest status event when recording began.
    eligibility: Mapped[list | None] = mapped_column(sa.JSON)
    eligibility_through: Mapped[int | None] = mapped_column(sa.BigInteger)

    def percent(self) -> int:
        """How far it got, of the addresses eligible at filing (100 once recorded)."""
        if self.state is FreezeState.done:
            return 100
        n = self.expected_count
        return min(99, 100 * self.frozen_count // n) if n else 0
