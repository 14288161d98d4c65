"""What an import run leaves beside its batch: the rows it skipped and the contacts it matched."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TitledEnum, enum_column


class SkipReason(TitledEnum):
    """Why a row of an import file was not imported."""

    invalid_address = ("invalid_address", "Invalid address")
    duplicate = ("duplicate", "Duplicate within the file")
    no_address = ("no_address", "No address at all")
    too_long = ("too_long", "Too long")
    conflict = ("conflict", "Conflicts with existing contacts")


class ImportRowError(Base):
    """One skipped row: its line in the file, why, and its cells as read (for the download)."""

    __tablename__ = "import_row_errors"
    __table_args__ = (sa.Index("ix_import_row_errors_batch_line", "batch_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batches.id", ondelete="CASCADE"))
    line: Mapped[int]
    reason: Mapped[SkipReason] = mapped_column(enum_column(SkipReason, "skip_reason"))
    detail: Mapped[str] = mapped_column(sa.String(300), default="")
    cells: Mapped[list] = mapped_column(sa.JSON, default=list)


class ImportMatch(Base):
    """An existing contact that a batch matched and updated (new contacts carry the batch id).

    It tells a later row of the same file that its contact was already imported (read by its
    key only, while the batch runs). No foreign keys (migration b7d3e5f1a926): the one writer
    is set-based and fills the batch as one value and the contacts from the account's own
    addresses it matched, and nothing deletes batches or contacts; on PostgreSQL the keys
    cost a trigger call and a row lock per matched contact. The stateful rule-book test
    checks the references instead (`rulebook_invariants.check_references`).
    """

    __tablename__ = "import_matches"

    batch_id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(primary_key=True)
