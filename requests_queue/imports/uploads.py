"""Import files between upload and start: checked, stored, waiting for the column mapping.

An upload is kept in the storage every host reaches (requests_queue/blobs) with what its
check found, so the mapping step may land on another web host and the run on the worker.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..blobs import BlobStore, delete_blob, put_file
from ..models.files import PendingUpload

# An upload nobody went on with is forgotten after this (it holds contacts; it is not kept).
PENDING_FOR = timedelta(hours=24)


def keep_upload(
    session: Session,
    store: BlobStore,
    path: Path,
    *,
    account_id: int,
    user_id: int,
    meta: dict,
    now: datetime,
) -> str:
    """Store a checked upload for its mapping step; return the token that names it (no commit)."""
    blob = put_file(store, session, path, account_id=account_id, now=now)
    token = secrets.token_urlsafe(16)
    session.add(
        PendingUpload(
            token=token,
            account_id=account_id,
            user_id=user_id,
            blob_id=blob.id,
            meta=meta,
            created_at=now,
        )
    )
    session.flush()
    return token


def pending_upload(
    session: Session, token: str, account_id: int, user_id: int, now: datetime
) -> PendingUpload | None:
    """The user's own pending upload named by `token`, None when not theirs or forgotten."""
    return session.scalar(
        sa.select(PendingUpload).where(
            PendingUpload.token == token,
            PendingUpload.account_id == account_id,
            PendingUpload.user_id == user_id,
            PendingUpload.created_at >= now - PENDING_FOR,
        )
    )


def taken_by_batch(session: Session, upload: PendingUpload) -> None:
    """The upload became a batch's file: it waits no more (the batch deletes it when done)."""
    session.execute(sa.delete(PendingUpload).where(PendingUpload.token == upload.token))


def forget_stale_uploads(session: Session, now: datetime) -> int:
    """Delete uploads left waiting longer than PENDING_FOR, and their files (no commit)."""
    stale = session.execute(
        sa.select(PendingUpload.token, PendingUpload.blob_id).where(
            PendingUpload.created_at < now - PENDING_FOR
        )
    ).all()
    for token, blob_id in stale:
        session.execute(sa.delete(PendingUpload).where(PendingUpload.token == token))
        delete_blob(session, blob_id)
    return len(stale)
