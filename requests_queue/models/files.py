"""Files kept for an account: the stored bytes (blobs) and what refers to them.

A blob's bytes live in `blob_chunks` (the default: every host that reaches the database
reaches them) or, when `path` is set, in a file of a directory every host mounts at the same
path. requests_queue/blobs.py writes and reads them; see UPLOAD_STORAGE in the README.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..now import now_utc
from .base import Base, UTCDateTime

# The evidence file types accepted (requests_queue/requests/attachments.py), as people name them.
TYPE_TITLES = {
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "application/pdf": "PDF document",
    "text/csv": "CSV file",
}


def size_text(n: int) -> str:
    """A size as people read it: "512 bytes", "840 KB", "2.4 MB"."""
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{round(n / 1024)} KB"
    return f"{n / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


class Blob(Base):
    """One stored file: its size and SHA-256 as written, and where its bytes are."""

    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    # "" : the bytes are the blob's chunks in the database; else the file's absolute path.
    path: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class BlobChunk(Base):
    """Consecutive pieces of a blob (`seq` from 0), so no file is ever one huge value."""

    __tablename__ = "blob_chunks"

    blob_id: Mapped[int] = mapped_column(
        sa.ForeignKey("blobs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class PendingUpload(Base):
    """An import file uploaded and checked, waiting for its user to map the columns.

    `meta` is what the check found (encoding, delimiter, header, sample, guessed mapping), so
    the mapping step, on whichever web host, never reads the file again.
    """

    __tablename__ = "pending_uploads"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    blob_id: Mapped[int] = mapped_column(sa.ForeignKey("blobs.id", ondelete="CASCADE"))
    meta: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)


class RequestAttachment(Base):
    """A file of evidence the customer attached when filing a request or answering a question.

    Evidence: written once, never edited or deleted while the request exists. `event_id` is the
    answer it came with; NULL means it was filed with the request.
    """

    __tablename__ = "request_attachments"
    __table_args__ = (sa.Index("ix_request_attachments_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("consent_requests.id"))
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("request_events.id"))
    blob_id: Mapped[int] = mapped_column(sa.ForeignKey("blobs.id"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    # Found from the content (requests_queue/requests/attachments.py), never the name.
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    uploaded_by = relationship("User")

    @property
    def type_title(self) -> str:
        """ "PNG image", "PDF document", …"""
        return TYPE_TITLES.get(self.content_type, self.content_type)

    @property
    def size_text(self) -> str:
        """The size as people read it: "840 KB", "2.4 MB"."""
        return size_text(self.size)

    @property
    def is_image(self) -> bool:
        """PNG or JPEG: shown inline."""
        return self.content_type.startswith("image/")
