"""Contacts, their addresses (each with its own status), tags and import batches."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now_utc
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


class ImportBatch(Base):
    """One import of contacts, with the permission answer stored as evidence."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    permission_confirmed: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    @property
    def label(self) -> str:
        """How the batch is named in lists and filters."""
        return f"#{self.id} {self.filename} ({self.created_at:%Y-%m-%d})"


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
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    first_name: Mapped[str] = mapped_column(sa.String(100), default="")
    last_name: Mapped[str] = mapped_column(sa.String(100), default="")
    # Lower-cased copies so name search is an index range scan on both databases.
    first_name_key: Mapped[str] = mapped_column(sa.String(100), default="")
    last_name_key: Mapped[str] = mapped_column(sa.String(100), default="")
    company: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(50), default="")
    import_batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batches.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    addresses: Mapped[list[EmailAddress]] = relationship(
        back_populates="contact", order_by="EmailAddress.field"
    )
    tags: Mapped[list[Tag]] = relationship(secondary=contact_tags, order_by="Tag.name")
    import_batch: Mapped[ImportBatch | None] = relationship()

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
        sa.Index("ix_email_addresses_account_status_contact", "account_id", "status", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    # An address removed from its contact keeps its row (and so its status and history),
    # detached: adding it again later finds it, so removing and re-adding never resets a status.
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    field: Mapped[EmailField | None] = mapped_column(enum_column(EmailField, "email_field"))
    # Stored trimmed and lower-cased: addresses match case-insensitively.
    address: Mapped[str] = mapped_column(sa.String(254))
    status: Mapped[EmailStatus] = mapped_column(enum_column(EmailStatus, "email_status"))
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    contact: Mapped[Contact | None] = relationship(back_populates="addresses")

    def __repr__(self) -> str:
        return f"<EmailAddress {self.id} {self.address} {self.status.value}>"
