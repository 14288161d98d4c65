"""Customer portal: import contacts from a file (upload, map columns, answer, watch it run)."""

import re
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from requests_queue.errors import ValidationError
from requests_queue.imports import (
    STALE_AFTER,
    FileFormat,
    FileRefused,
    Target,
    inspect_file,
    run_import,
    skipped_by_reason,
    skipped_rows_csv,
    start_import,
)
from requests_queue.imports.reading import MAX_COLUMNS, MAX_LINE_CHARS
from requests_queue.imports.uploads import (
    forget_stale_uploads,
    keep_upload,
    pending_upload,
    taken_by_batch,
)
from requests_queue.models import ImportBatch, ImportRowError, ImportState, PendingUpload, Tag
from requests_queue.now import now_utc

from .. import background
from ..auth.session import current_actor
from ..edge import committed, operation
from ..extensions import db
from ..uploads import saved_for_checks, upload_store
from .import_forms import UploadForm, mapping_form
from .scoping import own, own_latest
from .views import bp

# What `secrets.token_urlsafe(16)` makes (22 characters), with room: anything else names no
# upload and is refused before any query.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def start_background(app: Flask, batch_id: int) -> None:
    """Run the batch in a thread of this process, never inside the request."""
    # IMPORT_CHUNK_ROWS: small chunks let a browser test watch a short file's progress.
    options = (
        {"chunk_rows": app.config["IMPORT_CHUNK_ROWS"]} if "IMPORT_CHUNK_ROWS" in app.config else {}
    )
    background.start(app, "import", batch_id, lambda: run_import(db.engine, batch_id, **options))


@bp.route("/imports")
def imports():
    """The account's imports, newest first."""
    return render_template("customer/import_list.html", batches=own_latest(ImportBatch, 200))


@bp.route("/imports/new", methods=["GET", "POST"])
def new_import():
    """Step 1: upload the file; it is checked at once and refused with a reason if unusable."""
    form = UploadForm()
    if form.validate_on_submit():
        now = now_utc()
        # The sweep deletes forgotten uploads' files at once, so it is committed on its own,
        # whatever becomes of this upload.
        with committed():
            forget_stale_uploads(db.session, now)
        name = Path(form.file.data.filename or "upload.csv").name
        with operation(form) as op, saved_for_checks(form.file.data) as path:
            try:
                fmt = inspect_file(path)
            except FileRefused as exc:
                refused = f"“{name}” cannot be imported. {exc.reason}"
                raise ValidationError("file", refused) from None
            meta = {
                "filename": name,
                "tag": (form.tag.data or "").strip(),
                "encoding": fmt.encoding,
                "delimiter": fmt.delimiter,
                "header": fmt.header,
                "sample": fmt.sample,
                "size": fmt.size,
                "mapping": {str(i): t.value for i, t in fmt.mapping.items()},
            }
            token = keep_upload(
                db.session,
                upload_store(),
                path,
                account_id=current_user.account_id,
                user_id=current_user.id,
                meta=meta,
                now=now,
            )
        if op.done:
            return redirect(url_for(".map_import", token=token))
    return render_template(
        "customer/import_new.html",
        form=form,
        max_columns=MAX_COLUMNS,
        max_line_chars=MAX_LINE_CHARS,
    )


def _pending(token: str) -> PendingUpload:
    """The current user's pending upload, or 404 (another user's token is a 404 too)."""
    if _TOKEN.fullmatch(token) is None:
        abort(404)
    upload = pending_upload(db.session, token, current_user.account_id, current_user.id, now_utc())
    if upload is None:
        abort(404)
    return upload


@bp.route("/imports/new/<token>", methods=["GET", "POST"])
def map_import(token: str):
    """Step 2: map the columns, answer the permission question, start the import."""
    upload = _pending(token)
    meta = upload.meta
    header = meta["header"]
    guessed = {int(i): Target(v) for i, v in meta["mapping"].items()}
    form = mapping_form(header, guessed, request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        mapping = {i: Target(getattr(form, f"col_{i}").data) for i in range(len(header))}
        fmt = FileFormat(meta["encoding"], meta["delimiter"], header, meta["sample"], meta["size"])
        # Every refusal of the mapping step is about the whole form.
        with operation(form, locate=lambda form, name: None) as op:
            batch = start_import(
                db.session,
                current_user.account_id,
                current_actor(),
                fmt,
                upload.blob_id,
                meta["filename"],
                mapping,
                form.permission.data == "yes",
                meta["tag"],
                now_utc(),
            )
            taken_by_batch(db.session, upload)
        if op.done:
            start_background(current_app._get_current_object(), batch.id)
            flash(f"Import #{batch.id} started.", "success")
            return redirect(url_for(".import_batch", batch_id=batch.id))
    columns = [getattr(form, f"col_{i}") for i in range(len(header))]
    return render_template(
        "customer/import_map.html", form=form, meta=meta, columns=columns, token=token
    )


def _is_stalled(batch: ImportBatch) -> bool:
    """Unfinished and silent for STALE_AFTER: its run died (it is being resumed)."""
    beat = batch.heartbeat_at or batch.created_at
    return not batch.is_done and beat < now_utc() - STALE_AFTER


def _progress(batch: ImportBatch) -> dict:
    stalled = _is_stalled(batch)
    return {
        "state": batch.state.value,
        "state_title": "Stalled, resuming…" if stalled else batch.state.title,
        "done": batch.is_done,
        "percent": batch.percent,
        "rows_read": batch.rows_read,
        "created": batch.created_count,
        "updated": batch.updated_count,
        "skipped": batch.skipped_count,
    }


def _revive(batch: ImportBatch) -> None:
    """A batch whose run died (the process restarted) is resumed here, in the background."""
    if _is_stalled(batch) and not background.is_running("import", batch.id):
        start_background(current_app._get_current_object(), batch.id)


@bp.route("/imports/<id:batch_id>")
def import_batch(batch_id: int):
    """One import: its progress while it runs, its results afterwards."""
    batch = own(ImportBatch, batch_id)
    _revive(batch)
    reasons = skipped_by_reason(db.session, batch.id) if batch.skipped_count else []
    first_skipped = db.session.scalars(
        sa.select(ImportRowError)
        .where(ImportRowError.batch_id == batch.id)
        .order_by(ImportRowError.line)
        .limit(20)
    ).all()
    tag_id = db.session.scalar(
        sa.select(Tag.id).where(Tag.account_id == batch.account_id, Tag.name == batch.tag_name)
    )
    return render_template(
        "customer/import_batch.html",
        batch=batch,
        tag_id=tag_id if batch.tag_name else None,
        progress=_progress(batch),
        reasons=reasons,
        first_skipped=first_skipped,
        ImportState=ImportState,
    )


@bp.route("/imports/<id:batch_id>/progress.json")
def import_progress(batch_id: int):
    """The counts of a running import, for the progress bar."""
    batch = own(ImportBatch, batch_id)
    response = jsonify(_progress(batch))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/imports/<id:batch_id>/skipped.csv")
def import_skipped(batch_id: int):
    """The skipped rows as CSV, with cells neutralised so no spreadsheet runs them as formulas."""
    batch = own(ImportBatch, batch_id)
    body = stream_with_context(skipped_rows_csv(db.session, batch))
    name = f"import-{batch.id}-skipped-rows.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
