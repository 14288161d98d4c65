"""Agent desk: a request's evidence files, as the review page shows and links them."""

from flask import abort, request

from requests_queue.errors import NotFound
from requests_queue.models import ConsentRequest
from requests_queue.requests.attachments import attachment_of

from ..evidence_files import send_attachment
from ..extensions import db
from .views import bp


@bp.route("/requests/<id:request_id>/files/<id:file_id>")
def request_file(request_id: int, file_id: int):
    """One evidence file of a request: an image inline, anything else (or ?download=1) saved."""
    if db.session.get(ConsentRequest, request_id) is None:
        abort(404)
    try:
        attachment = attachment_of(db.session, request_id, file_id)
    except NotFound:
        abort(404)
    return send_attachment(attachment, download=request.args.get("download") == "1")
