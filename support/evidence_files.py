"""Evidence files at the edge: the limits from the configuration, the checks of an upload
field, and serving one file so that a browser never runs it.

The domain rules (accepted types judged from the content, names) are in
requests_queue/requests/attachments.py; the storage is support/uploads.py's.
"""

from flask import Response, abort, current_app, send_file
from flask_wtf.file import MultipleFileField

from requests_queue.blobs import BlobMissing, open_blob
from requests_queue.errors import ValidationError
from requests_queue.models.files import RequestAttachment, size_text
from requests_queue.requests.attachments import CheckedFile, FileLimits, check_files

from .extensions import db


def file_limits() -> FileLimits:
    """EVIDENCE_MAX_FILES files per filing or answer, each at most EVIDENCE_MAX_MB."""
    config = current_app.config
    return FileLimits(
        max_files=int(config["EVIDENCE_MAX_FILES"]),
        max_bytes=int(float(config["EVIDENCE_MAX_MB"]) * 1024 * 1024),
    )


# The browser's file picker offers these; the server judges each file by its content.
ACCEPT = ".png,.jpg,.jpeg,.pdf,.csv,image/png,image/jpeg,application/pdf,text/csv"


class _WithLimits:
    """A field description naming the configured limits when shown ({files}, {size})."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        limits = file_limits()
        return self.text.format(files=limits.max_files, size=size_text(limits.max_bytes))


def files_field(description: str) -> MultipleFileField:
    """An optional evidence-files field of a form, checked on the server by checked_uploads."""
    return MultipleFileField(
        "Files (optional)", description=_WithLimits(description), render_kw={"accept": ACCEPT}
    )


def checked_uploads(field) -> tuple[list[CheckedFile], list[ValidationError]]:
    """The files of a MultipleFileField, checked; or the refusal to show next to it."""
    # A file input left empty still sends one part, without a name or content.
    chosen = [(f.filename or "", f.stream) for f in (field.data or []) if f and f.filename]
    try:
        return check_files(chosen, file_limits()), []
    except ValidationError as exc:
        return [], [exc]


def send_attachment(attachment: RequestAttachment, download: bool = False) -> Response:
    """One evidence file: images inline (as PNG or JPEG, nothing else), every other type and
    any `download` as an attachment; never sniffed, never cached by shared caches."""
    inline = attachment.is_image and not download
    try:
        body = open_blob(db.engine, attachment.blob_id)
    except BlobMissing:
        current_app.logger.error("evidence file %s: its bytes are missing", attachment.id)
        abort(404)
    response = send_file(
        body,
        mimetype=attachment.content_type,
        as_attachment=not inline,
        download_name=attachment.filename,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.content_length = attachment.size
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
