"""Tidying the shared upload directory (UPLOAD_STORAGE=directory:…): files of blobs that
never committed are deleted (requests_queue.blobs.remove_stray_files)."""

from __future__ import annotations

from ..blobs import BlobStore, remove_stray_files
from .runner import JobContext


def remove_stray_uploads(ctx: JobContext) -> dict[str, int]:
    """Delete stray files of the configured upload directory; nothing with database storage."""
    store = BlobStore.from_setting(ctx.settings.get("UPLOAD_STORAGE", "database"))
    if store.directory is None:
        return {"checked": 0, "deleted": 0}
    return remove_stray_files(ctx.session, store.directory, ctx.now)
