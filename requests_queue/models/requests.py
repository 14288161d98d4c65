"""Consent requests (tickets): the frozen address selection, the evidence and the timeline."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..now import now_utc
from ..statuses import ActorKind, EmailStatus
from .base import Base, TitledEnum, UTCDateTime, enum_column
from .contacts import EmailField


class RequestKind(TitledEnum):
    """What a request asks support to do."""

    mass_opt_in = ("mass_opt_in", "Mass opt-in")
    undo_opt_out = ("undo_opt_out", "Undo mass opt-out")


class RequestState(TitledEnum):
    """Where a request is in its lifecycle (transitions: requests_queue.requests.lifecycle)."""

    submitted = ("submitted", "Submitted")
    in_review = ("in_review", "In review")
    # Approved by one agent; a second (not the first approver) confirms it or returns it.
    pending_second_review = ("pending_second_review", "Pending second review")
    awaiting_customer = ("awaiting_customer", "Awaiting customer")
    approved = ("approved", "Approved")
    rejected = ("rejected", "Rejected")
    withdrawn = ("withdrawn", "Withdrawn")
    closed_no_response = ("closed_no_response", "Closed: no answer")

    @property
    def is_open(self) -> bool:
        """True until a decision, a withdrawal or a close."""
        return self in OPEN_STATES

    @property
    def customer_title(self) -> str:
        """The state as the customer reads it (a second review is still support's review)."""
        if self is RequestState.pending_second_review:
            return RequestState.in_review.title
        return "Waiting for your answer" if self is RequestState.awaiting_customer else self.title


OPEN_STATES = (
    RequestState.submitted,
    RequestState.in_review,
    RequestState.pending_second_review,
    RequestState.awaiting_customer,
)


class ListSource(TitledEnum):
    """Where the customer's list came from (evidence)."""

    website_form = ("website_form", "Website sign-up form")
    checkout = ("checkout", "Purchase / checkout")
    event = ("event", "Event sign-up")
    platform_export = ("platform_export", "Export from another platform")
    other = ("other", "Other")


class RejectReason(TitledEnum):
    """Why support rejected a request; the customer sees the title and the agent's message."""

    insufficient_evidence = ("insufficient_evidence", "The evidence of permission is insufficient")
    forms_do_not_show_consent = (
        "forms_do_not_show_consent",
        "The sign-up forms do not show consent to marketing email",
    )
    third_party_list = (
        "third_party_list",
        "The list looks purchased, rented, shared or harvested",
    )
    stale_list = ("stale_list", "The list has not been mailed for too long")
    wrong_selection = ("wrong_selection", "The selected addresses do not match the evidence")
    other = ("other", "Other reason (see the message)")


class AddressOutcome(TitledEnum):
    """What approval did to one address of the frozen selection."""

    changed = ("changed", "Changed")
    skipped = ("skipped", "Skipped")


class RequestEventKind(TitledEnum):
    """One entry of a request's timeline."""

    filed = ("filed", "Filed")
    claimed = ("claimed", "Review started")
    assigned = ("assigned", "Assigned")
    question = ("question", "Question from support")
    answer = ("answer", "Answer")
    note = ("note", "Internal note")
    warned = ("warned", "Reminder sent")
    approved = ("approved", "Approved")
    first_approval = ("first_approval", "Approved, waiting for a second review")
    returned = ("returned", "Returned from second review")
    rejected = ("rejected", "Rejected")
    withdrawn = ("withdrawn", "Withdrawn")
    closed = ("closed", "Closed without an answer")


class ConsentRequest(Base):
    """A customer's mass opt-in or undo-opt-out request, with its evidence and its decision.

    Evidence columns are written once at filing and never updated; the customer adds
    information only as answers on the timeline.
    """

    __tablename__ = "consent_requests"
    __table_args__ = (
        # The queue: open requests oldest first, per state (one range scan per open state).
        sa.Index("ix_consent_requests_queue", "state", "filed_at", "id"),
        sa.Index("ix_consent_requests_assignee", "assignee_id", "state", "filed_at", "id"),
        sa.Index("ix_consent_requests_account", "account_id", "state", "filed_at", "id"),
        # Covers the queue's filter counts: one GROUP BY over the open states' index range.
        sa.Index("ix_consent_requests_facets", "state", "kind", "account_id", "assignee_id"),
        sa.Index("ix_consent_requests_mass_action", "mass_action_id"),
        # Running requests in deadline order (the queue's default, the SLA sweep's cutoffs):
        # those that never waited by filing time, then those with a stored clock base.
        sa.Index("ix_consent_requests_deadline", "state", "clock_base_at", "filed_at", "id"),
        # The sweep's catch-up: clocks not computed yet, and open ones computed with another
        # calendar (two ranges that skip the current key).
        sa.Index("ix_consent_requests_clock_key", "clock_calendar_key", "state"),
        # Breaches by when they fell (a report's period, the sweep's late breaches of closed
        # requests), covering the dashboard's sums by assignee.
        sa.Index(
            "ix_consent_requests_breach",
            "clock_breach_at",
            "state",
            "assignee_id",
            "clock_ran_s",
            "clock_base_mark",
            "id",  # the lists pick their rows' ids from the index alone
        ),
        # The dashboard's backlog and watch lists: open requests' clocks by state.
        sa.Index(
            "ix_consent_requests_clock",
            "state",
            "assignee_id",
            "clock_base_mark",
            "clock_ran_s",
            "id",
        ),
        sa.CheckConstraint(
            "(kind = 'undo_opt_out') = (mass_action_id IS NOT NULL)", name="undo_names_batch"
        ),
        sa.CheckConstraint("explicit_permission", name="explicit_permission_given"),
        sa.CheckConstraint("attested", name="attested"),
        sa.CheckConstraint("(last_sent_on IS NULL) = never_sent", name="last_sent_on_or_never"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind, "request_kind"))
    state: Mapped[RequestState] = mapped_column(
        enum_column(RequestState, "request_state"), default=RequestState.submitted
    )
    filed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # A running SLA clock's base: due 3 and breached 5 business days after it. NULL means the
    # filing time (the request never waited for the customer) or, when not running, nothing.
    # After a wait it is where the clock would have started had it never stopped. Kept by
    # requests_queue.sla.deadlines, which the lifecycle calls with every event that moves it.
    clock_base_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The rest of the clock, stored for every request by requests_queue.sla.deadlines: a
    # running clock's base as a position on the business line in seconds (NULL while it stands
    # still), the business seconds it ran before it stopped (or before its current run), when
    # it reached 3 / 5 business days (None: it stopped before; running: the deadlines ahead),
    # and the calendar they were computed with (`sla.clock.calendar_key`; NULL: not computed).
    clock_base_mark: Mapped[int | None] = mapped_column(sa.BigInteger)
    clock_ran_s: Mapped[int | None]
    clock_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_breach_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_calendar_key: Mapped[str | None] = mapped_column(sa.String(40))
    # What it applies to: the selection as the customer saw it, frozen in request_addresses.
    mass_action_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mass_actions.id"))
    selection: Mapped[str] = mapped_column(sa.String(500))
    fields: Mapped[str] = mapped_column(sa.String(40))  # comma-separated EmailField values
    address_count: Mapped[int] = mapped_column(default=0)
    # Evidence (DOMAIN.md: Requests), checked by requests_queue.requests.evidence.
    reason: Mapped[str] = mapped_column(sa.Text)
    last_sent_on: Mapped[date | None] = mapped_column(sa.Date)
    never_sent: Mapped[bool] = mapped_column(default=False)
    explicit_permission: Mapped[bool] = mapped_column(default=True)
    permission_details: Mapped[str] = mapped_column(sa.Text)
    form_links: Mapped[list] = mapped_column(sa.JSON, default=list)
    list_source: Mapped[ListSource] = mapped_column(enum_column(ListSource, "list_source"))
    attested: Mapped[bool] = mapped_column(default=True)
    # Decision.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Four-eyes approval: who approved first while it waits for a second review (else NULL).
    first_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    first_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[RejectReason | None] = mapped_column(
        enum_column(RejectReason, "reject_reason")
    )
    decision_message: Mapped[str] = mapped_column(sa.Text, default="")
    checklist: Mapped[list] = mapped_column(sa.JSON, default=list)  # evidence items verified
    changed_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    skipped_by_reason: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    account = relationship("Account")
    filed_by = relationship("User", foreign_keys=[filed_by_id])
    assignee = relationship("User", foreign_keys=[assignee_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    first_approved_by = relationship("User", foreign_keys=[first_approved_by_id])
    mass_action = relationship("MassAction")

    @property
    def number(self) -> str:
        """How people name the request: R-000123."""
        return f"R-{self.id:06d}"

    @property
    def field_list(self) -> list[EmailField]:
        """The email fields the selection covers."""
        return [EmailField(f) for f in self.fields.split(",") if f]

    def __repr__(self) -> str:
        return f"<ConsentRequest {self.id} {self.kind.value} {self.state.value}>"


class RequestAddress(Base):
    """One address of a request's frozen selection, and what approval did to it."""

    __tablename__ = "request_addresses"

    # No foreign keys (migration c5e1a9d3b702): the freeze's INSERT … SELECT writes these rows
    # from the request and its account's addresses, which are never deleted; a per-row check
    # of that cost more than the rows themselves (tests/requests_queue/test_request_freezing.py
    # and rulebook_invariants.check_references keep it).
    request_id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(primary_key=True)
    field: Mapped[EmailField | None] = mapped_column(enum_column(EmailField, "email_field"))
    status_at_filing: Mapped[EmailStatus] = mapped_column(
        enum_column(EmailStatus, "status_at_filing")
    )
    # Undo only: the status the mass opt-out recorded, which approval restores.
    prior_status: Mapped[EmailStatus | None] = mapped_column(
        enum_column(EmailStatus, "prior_status")
    )
    outcome: Mapped[AddressOutcome | None] = mapped_column(
        enum_column(AddressOutcome, "address_outcome")
    )
    skip_reason: Mapped[str | None] = mapped_column(sa.String(120))

    address = relationship(
        "EmailAddress", primaryjoin="foreign(RequestAddress.address_id) == EmailAddress.id"
    )


class RequestEvent(Base):
    """One entry of a request's append-only timeline; the SLA clock is derived from it."""

    __tablename__ = "request_events"
    __table_args__ = (sa.Index("ix_request_events_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("consent_requests.id"))
    kind: Mapped[RequestEventKind] = mapped_column(
        enum_column(RequestEventKind, "request_event_kind")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, "actor_kind"))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The state before and after; equal for notes, reminders and reassignments.
    from_state: Mapped[RequestState | None] = mapped_column(enum_column(RequestState, "from_state"))
    to_state: Mapped[RequestState] = mapped_column(enum_column(RequestState, "to_state"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    is_internal: Mapped[bool] = mapped_column(default=False)

    actor_user = relationship("User", foreign_keys=[actor_user_id])
    assignee = relationship("User", foreign_keys=[assignee_id])


EVIDENCE_COLUMNS = (
    "reason",
    "last_sent_on",
    "never_sent",
    "explicit_permission",
    "permission_details",
    "form_links",
    "list_source",
    "attested",
    "kind",
    "account_id",
    "mass_action_id",
    "filed_by_id",
    "filed_at",
)


@sa.event.listens_for(ConsentRequest, "before_update")
def _evidence_is_final(_mapper, _connection, target: ConsentRequest) -> None:
    """Evidence is written once at filing; the customer adds information only as answers."""
    state = sa.inspect(target)
    changed = [c for c in EVIDENCE_COLUMNS if state.attrs[c].history.has_changes()]
    if changed:
        raise ValueError(f"evidence cannot change after filing: {', '.join(changed)}")
