"""The storage uploads go to, as the deployment configured it (UPLOAD_STORAGE)."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

from requests_queue.blobs import BlobStore


def upload_store() -> BlobStore:
    """Where this app writes uploaded files: the database or the shared directory."""
    return BlobStore.from_setting(current_app.config["UPLOAD_STORAGE"])


@contextmanager
def saved_for_checks(upload: FileStorage) -> Iterator[Path]:
    """The upload as a file of this request's own, removed when the request is done with it.

    Only the checks read it here; what is kept goes to `upload_store()`.
    """
    with tempfile.TemporaryDirectory(prefix="consent-desk-upload-") as directory:
        path = Path(directory) / "upload"
        upload.save(path)
        yield path
