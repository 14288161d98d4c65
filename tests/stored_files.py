"""Putting a test's file into the upload storage, as the upload views do before an import."""

from pathlib import Path

from requests_queue.blobs import BlobStore, put_file
from tests.conftest import NOW


def stored(session, path: Path, account_id: int, store: BlobStore | None = None) -> int:
    """Store the file at `path` for `account_id` (in the database by default); its blob id."""
    return put_file(store or BlobStore(), session, path, account_id=account_id, now=NOW).id


def kept_files(session) -> int:
    """How many files the storage holds (blobs), for tests that check nothing was kept."""
    import sqlalchemy as sa

    from requests_queue.models import Blob

    session.rollback()  # a fresh snapshot: the app committed on its own session
    return session.scalar(sa.select(sa.func.count()).select_from(Blob))
