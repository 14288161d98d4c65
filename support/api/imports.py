"""Imports: upload a CSV with its mapping and permission answer, poll it, read its skipped rows.

The file is checked at once exactly as on the web (`inspect_file`), recorded with the
permission answer (`start_import`) and run by the web's background starter, never inside the
request; the caller polls GET /imports/{id} until `done`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import fields, validate
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from requests_queue.blobs import put_file
from requests_queue.errors import ValidationError
from requests_queue.imports import (
    FileRefused,
    Target,
    inspect_file,
    skipped_by_reason,
    start_import,
)
from requests_queue.imports.mapping import mapping_from_json
from requests_queue.models import ImportBatch, ImportRowError, ImportState, SkipReason
from requests_queue.now import now_utc

from ..customer.import_views import start_background
from ..edge import committed
from ..extensions import db
from ..uploads import saved_for_checks, upload_store
from .auth import CUSTOMERS, account_id, api_actor, own, own_rows, protect
from .problems import register_problem_handlers
from .schemas import UNSTORABLE, PageArgs, Schema, Text, created, keyset_page, page_schema


class MultipartParser(FlaskParser):
    """Reads a multipart body's fields and files as one set of arguments."""

    def load_files(self, req, schema):
        """Files and form fields together: the upload and its answers are one request body."""
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class UploadBlueprint(Blueprint):
    """A blueprint whose `files` arguments are the whole multipart body (one documented body)."""

    ARGUMENTS_PARSER = MultipartParser()


bp = UploadBlueprint("imports", __name__, description="Contact imports from CSV files (customers).")
protect(bp, CUSTOMERS)
register_problem_handlers(bp)

TARGETS = ", ".join(t.value for t in Target)


class UploadIn(Schema):
    """The CSV file, the permission answer, and optionally the column mapping and a tag."""

    file = Upload(required=True)
    permission = fields.String(
        required=True,
        validate=validate.OneOf(["yes", "no"]),
        metadata={
            "description": "Did every new address give you permission to email it? `yes`: new "
            "addresses start single opt-in; `no`: non-marketable."
        },
    )
    mapping = Text(
        20000,
        load_default=None,
        metadata={
            "description": "JSON object: column number (from 0) to one of "
            f"{TARGETS}. Left out: the columns are guessed from the header, as on the web."
        },
    )
    tag = Text(80, load_default="")


class ImportOut(Schema):
    """An import: its answer, its progress while it runs, and its counts."""

    id = fields.Integer(required=True)
    filename = fields.String(required=True)
    state = fields.Enum(ImportState, by_value=True, required=True)
    done = fields.Boolean(attribute="is_done", required=True)
    percent = fields.Integer(required=True)
    permission_confirmed = fields.Boolean(required=True)
    tag = fields.String(attribute="tag_name", required=True)
    mapping = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    rows_read = fields.Integer(required=True)
    created = fields.Integer(attribute="created_count", required=True)
    updated = fields.Integer(attribute="updated_count", required=True)
    skipped = fields.Integer(attribute="skipped_count", required=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True, required=True)
    error = fields.String(required=True)


@dataclass(frozen=True)
class ImportDetail:
    """A batch and its skipped rows counted by reason."""

    batch: ImportBatch
    skipped_by_reason: dict[str, int]


class ImportDetailOut(ImportOut):
    """An import with its skipped rows counted by reason."""

    skipped_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)

    def get_attribute(self, obj, attr, default):
        """The counts from the detail, everything else from its batch."""
        if attr == "skipped_by_reason":
            return obj.skipped_by_reason
        return super().get_attribute(obj.batch, attr, default)


class SkippedRowOut(Schema):
    """A row that was not imported: its line, why, and its cells as read."""

    line = fields.Integer(required=True)
    reason = fields.Enum(SkipReason, by_value=True, required=True)
    detail = fields.String(required=True)
    cells = fields.List(fields.String(allow_none=True), required=True)


def _mapping(raw: str | None, guessed: dict[int, Target], columns: int) -> dict[int, Target]:
    if raw is None:
        return guessed
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError
        mapping = mapping_from_json({str(k): str(v) for k, v in data.items()})
    except (ValueError, KeyError):
        message = f"give a JSON object of column numbers to {TARGETS}"
        raise ValidationError("mapping", message) from None
    if any(not 0 <= i < columns for i in mapping):
        raise ValidationError("mapping", f"the file has columns 0 to {columns - 1}")
    return mapping


def _detail(batch: ImportBatch) -> ImportDetail:
    reasons = skipped_by_reason(db.session, batch.id) if batch.skipped_count else []
    return ImportDetail(batch, {reason.value: n for reason, n in reasons})


@bp.route("/imports", methods=["POST"])
@bp.arguments(UploadIn, location="files")
@bp.response(202, ImportDetailOut)
def upload(form: dict):
    """Upload a CSV and start its import in the background; poll the batch until `done`."""
    upload_file = form["file"]
    with committed(), saved_for_checks(upload_file) as path:
        try:
            fmt = inspect_file(path)
            mapping = _mapping(form["mapping"], fmt.mapping, len(fmt.header))
            store = upload_store()
            blob = put_file(store, db.session, path, account_id=account_id(), now=now_utc())
            batch = start_import(
                db.session,
                account_id(),
                api_actor(),
                fmt,
                blob.id,
                # The client names the file: only what a database can store of it is kept.
                UNSTORABLE.sub("", Path(upload_file.filename or "").name) or "upload.csv",
                mapping,
                form["permission"] == "yes",
                form["tag"],
                now_utc(),
            )
        except FileRefused as exc:
            raise ValidationError("file", exc.reason) from None
    start_background(current_app._get_current_object(), batch.id)
    return created(_detail(batch), 202, ".get_import", batch_id=batch.id)


@bp.route("/imports")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(ImportOut, "ImportPage"))
def list_imports(args: dict):
    """The account's imports, newest first."""
    return keyset_page(own_rows(ImportBatch), ImportBatch.id, args, newest_first=True)


@bp.route("/imports/<id:batch_id>")
@bp.response(200, ImportDetailOut)
def get_import(batch_id: int):
    """One import's progress and, once done, its counts and skipped rows by reason."""
    return _detail(own(ImportBatch, batch_id))


@bp.route("/imports/<id:batch_id>/skipped")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(SkippedRowOut, "SkippedRowPage"))
def skipped_rows(args: dict, batch_id: int):
    """The rows that were not imported, in file order."""
    batch = own(ImportBatch, batch_id)
    query = sa.select(ImportRowError).where(ImportRowError.batch_id == batch.id)
    return keyset_page(query, ImportRowError.line, args)
