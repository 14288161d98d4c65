"""Evidence files of a request: list them, download one, and attach files (customers).

The same files as on the web (issue 14, item 6): PNG, JPEG, PDF or CSV judged from the
content, at most EVIDENCE_MAX_FILES per upload of at most EVIDENCE_MAX_MB each, kept in the
upload storage as evidence, never changed or deleted. On the web they come in the filing or the
answer form; through the API the filing and the answer are JSON, so files follow in their own
call and join the customer's latest filing or answer, until support starts reviewing it
(`attachments.joins_latest`). Customers see their own account's files only (another
account's request or file is a 404); agents and managers see every request's.
"""

from __future__ import annotations

from flask import abort
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from requests_queue.errors import NotFound
from requests_queue.now import now_utc
from requests_queue.requests.attachments import (
    KINDS,
    attach_files,
    attachment_of,
    check_files,
    joins_latest,
    request_attachments,
)

from ..edge import committed
from ..evidence_files import file_limits, send_attachment
from ..extensions import db
from ..uploads import upload_store
from .auth import EVERYONE, api_actor, protect
from .imports import UploadBlueprint
from .problems import register_problem_handlers
from .proof import AttachmentProof
from .requests import _is_customer, load_request
from .schemas import Schema

bp = UploadBlueprint("request_files", __name__, description="Evidence files of requests.")
protect(bp, EVERYONE)
register_problem_handlers(bp)


class FilesIn(Schema):
    """One to EVIDENCE_MAX_FILES files, each in a part named `files`."""

    files = fields.List(
        Upload(),
        required=True,
        validate=validate.Length(min=1, error="attach at least one file"),
        metadata={"description": "PNG, JPEG, PDF or CSV; the type is judged from the content."},
    )


class AttachmentOut(AttachmentProof):
    """One evidence file, as the proof of consent lists it, with its id to download it by."""

    id = fields.Integer(required=True)
    uploaded_by = fields.String(attribute="uploaded_by_email", required=True)


class AttachmentList(Schema):
    """A request's evidence files in the order they were attached."""

    items = fields.List(fields.Nested(AttachmentOut), required=True)


def _listing(request_id: int) -> dict:
    return {"items": request_attachments(db.session, request_id)}


@bp.route("/requests/<id:request_id>/files")
@bp.response(200, AttachmentList)
def list_files(request_id: int):
    """The request's evidence files."""
    return _listing(load_request(request_id).id)


@bp.route("/requests/<id:request_id>/files", methods=["POST"])
@bp.arguments(FilesIn, location="files")
@bp.response(201, AttachmentList)
def attach(form: dict, request_id: int):
    """Attach files to your latest filing or answer of this request, until support starts
    reviewing it (then send them with your next answer); answers with every file of the
    request."""
    if not _is_customer():
        abort(403)
    req = load_request(request_id)
    actor = api_actor()
    limits = file_limits()
    chosen = [(f.filename or "", f.stream) for f in form["files"]]
    with committed():
        came_with = joins_latest(db.session, req, actor)
        checked = check_files(chosen, limits)
        attach_files(db.session, upload_store(), req, came_with, checked, actor, limits, now_utc())
    return _listing(req.id), 201


BINARY = {"schema": {"type": "string", "format": "binary"}}


@bp.route("/requests/<id:request_id>/files/<id:file_id>")
@bp.doc(
    responses={
        "200": {
            "description": "The file's bytes, as an attachment.",
            "content": dict.fromkeys(KINDS, BINARY),
        }
    }
)
def download_file(request_id: int, file_id: int):
    """One evidence file's bytes (always as a download, never shown inline)."""
    req = load_request(request_id)
    try:
        attachment = attachment_of(db.session, req.id, file_id)
    except NotFound:
        abort(404)
    return send_attachment(attachment, download=True)
