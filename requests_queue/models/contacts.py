"""Contacts, their addresses (each with its own status), tags and import batches."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..now import now_utc
from ..statuses import EmailStatus
from .base import Base, TitledEnum, UTCDateTime, enum_column


class EmailField(TitledEnum):
    """The three address fields a contact has."""

    email = ("email", "Email")
    email2 = ("email2", "Email 2")
    email3 = ("email3", "Email 3")


contact_tags = sa.Table(
    "contact_tags",
    Base.metadata,
    sa.Column("contact_id", sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_contact_tags_tag_contact", "tag_id", "contact_id"),
)


class Tag(Base):
    """A label a customer puts on contacts to select them later."""

    __tablename__ = "tags"
    __table_args__ = (sa.UniqueConstraint("account_id", "name", name="uq_tags_account_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(sa.String(80))


class ImportState(TitledEnum):
    """Where an import batch is: waiting for its run, running, or done either way."""

    queued = ("queued", "Queued")
    running = ("running", "Running")
    finished = ("finished", "Finished")
    failed = ("failed", "Failed")


class ImportBatch(Base):
    """One import of contacts, with the permission answer stored as evidence.

    The answer, the user who gave it and the time (`created_at`: the batch is created when
    the question is answered) are the evidence. The run's progress is committed with every
    chunk, so a restarted run resumes after `rows_read` and the counts are always true.
    """

    __tablename__ = "import_batches"
    __table_args__ = (sa.Index("ix_import_batches_state_heartbeat", "state", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    permission_confirmed: Mapped[bool]
    # The exact statement the user answered, kept with the answer.
    permission_statement: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # Batches recorded before imports ran in the background (and demo data) are complete.
    state: Mapped[ImportState] = mapped_column(
        enum_column(ImportState, "import_state"),
        default=ImportState.finished,
        server_default=ImportState.finished.value,
    )
    tag_name: Mapped[str] = mapped_column(sa.String(80), default="", server_default="")
    # Column index (as a string, JSON keys are strings) -> import target, e.g. {"0": "email"}.
    mapping: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default="{}")
    header: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    # The uploaded file until the run is over (requests_queue/blobs.py; deleted at the end).
    file_blob_id: Mapped[int | None] = mapped_column(sa.ForeignKey("blobs.id", ondelete="SET NULL"))
    encoding: Mapped[str] = mapped_column(sa.String(20), default="utf-8", server_default="utf-8")
    delimiter: Mapped[str] = mapped_column(sa.String(1), default=",", server_default=",")
    file_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    bytes_read: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    rows_read: Mapped[int] = mapped_column(default=0, server_default="0")
    last_line: Mapped[int] = mapped_column(default=0, server_default="0")
    created_count: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_count: Mapped[int] = mapped_column(default=0, server_default="0")
    skipped_count: Mapped[int] = mapped_column(default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    user = relationship("User")

    @property
    def label(self) -> str:
        """How the batch is named in lists and filters."""
        return f"#{self.id} {self.filename} ({self.created_at:%Y-%m-%d})"

    @property
    def is_done(self) -> bool:
        """True once the run finished or failed for good."""
        return self.state in (ImportState.finished, ImportState.failed)

    @property
    def percent(self) -> int:
        """How far the run is through the file, by bytes read (100 when done)."""
        if self.state is ImportState.finished:
            return 100
        if not self.file_bytes:
            return 0
        return min(99, int(100 * self.bytes_read / self.file_bytes))


class Contact(Base):
    """A person in a customer's list, with up to three addresses."""

    __tablename__ = "contacts"
    __table_args__ = (
        sa.Index("ix_contacts_account_id", "account_id", "id"),
        sa.Index("ix_contacts_account_last_name", "account_id", "last_name_key"),
        sa.Index("ix_contacts_account_first_name", "account_id", "first_name_key"),
        sa.Index("ix_contacts_import_batch", "import_batch_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign keys on the account and the import batch (migration d9f2a4c6e813): facts of
    # the operation that writes the rows, one value per statement from a row that keeps its
    # own key; the stateful rule-book test checks them (`rulebook_invariants`).
    account_id: Mapped[int]
    first_name: Mapped[str] = mapped_column(sa.String(100), default="")
    last_name: Mapped[str] = mapped_column(sa.String(100), default="")
    # Lower-cased copies so name search is an index range scan on both databases.
    first_name_key: Mapped[str] = mapped_column(sa.String(100), default="")
    last_name_key: Mapped[str] = mapped_column(sa.String(100), default="")
    company: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(50), default="")
    import_batch_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    addresses: Mapped[list[EmailAddress]] = relationship(
        back_populates="contact", order_by="EmailAddress.field"
    )
    tags: Mapped[list[Tag]] = relationship(secondary=contact_tags, order_by="Tag.name")
    import_batch: Mapped[ImportBatch | None] = relationship(
        primaryjoin="foreign(Contact.import_batch_id) == ImportBatch.id"
    )

    @property
    def full_name(self) -> str:
        """First and last name, or a dash when both are empty."""
        return f"{self.first_name} {self.last_name}".strip() or "—"

    def address_in(self, field: EmailField) -> EmailAddress | None:
        """The address held in `field`, if any."""
        return next((a for a in self.addresses if a.field is field), None)


class EmailAddress(Base):
    """One address of a contact; the unit that has a marketability status."""

    __tablename__ = "email_addresses"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "address", name="uq_email_addresses_account_address"),
        sa.UniqueConstraint("contact_id", "field", name="uq_email_addresses_contact_field"),
        # Covers the status filter, the EXISTS probe per contact and the grouped preview.
        sa.Index(
            "ix_email_addresses_account_status_contact",
            "account_id",
            "status",
            "contact_id",
            "field",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int]  # no foreign key, as the contact's (migration d9f2a4c6e813)
    # An address removed from its contact keeps its row (and so its status and history),
    # detached: adding it again later finds it, so removing and re-adding never resets a status.
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    field: Mapped[EmailField | None] = mapped_column(enum_column(EmailField, "email_field"))
    # The canonical form (requests_queue/mailbox.py): the account's one key for the mailbox.
    address: Mapped[str] = mapped_column(sa.String(254))
    # The customer's own spelling when it differs from the canonical form (shown, never matched).
    typed_address: Mapped[str | None] = mapped_column(sa.String(320))
    status: Mapped[EmailStatus] = mapped_column(enum_column(EmailStatus, "email_status"))
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    contact: Mapped[Contact | None] = relationship(back_populates="addresses")

    @property
    def display(self) -> str:
        """The address as the customer wrote it (the canonical form when they wrote that)."""
        return self.typed_address or self.address

    def __repr__(self) -> str:
        return f"<EmailAddress {self.id} {self.address} {self.status.value}>"
