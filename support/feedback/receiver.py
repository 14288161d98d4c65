"""The providers' endpoint: POST /feedback/<feed id>. No login, no CSRF: the feed's URL id
and the provider's signature (or basic auth) say who is calling.

Answers: 200 with counts (duplicates included, so the provider stops retrying), 400 for a
body that is not the provider's format, 401 for a bad signature or a stale one (counted on
the feed, nothing processed), 409 for a replay of a delivery already received, 404 for an
unknown or disabled feed, 413 past MAX_BODY.
"""

from flask import Blueprint, abort, jsonify, request

from requests_queue.feedback.feeds import feed_by_public_id
from requests_queue.feedback.intake import record_refusal
from requests_queue.feedback.receiving import receive_delivery
from requests_queue.feedback.reported import BadPayload
from requests_queue.feedback.signatures import Refused
from requests_queue.now import now_utc

from ..edge import committed
from ..extensions import csrf, db
from . import certificate_fetcher, sealer

bp = Blueprint("feedback_in", __name__)
csrf.exempt(bp)
MAX_BODY = 5 * 1024 * 1024


@bp.route("/<public_id>", methods=["POST"])
def receive(public_id: str):
    """Store and apply one delivery of a provider's feedback."""
    feed = feed_by_public_id(db.session, public_id)
    if feed is None:
        abort(404)
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    body = request.get_data(cache=False)[: MAX_BODY + 1]
    if len(body) > MAX_BODY:
        abort(413)
    now = now_utc()
    feed_id = feed.id
    try:
        with committed():
            secret = sealer().open(feed.secret_sealed)
            receipt = receive_delivery(
                db.session, feed, body, request.headers, secret, now, certificate_fetcher()
            )
    except Refused as refused:  # nothing of the delivery is kept; the refusal is counted
        with committed():
            record_refusal(db.session, feed_id, refused, now)
        status = 409 if refused.kind == "replayed" else 401
        return _problem(status, refused.reason)
    except BadPayload as exc:
        return _problem(400, str(exc))
    return jsonify(receipt.as_json())


def _problem(status: int, detail: str):
    titles = {400: "Not this provider's format", 401: "Refused", 409: "Replayed delivery"}
    response = jsonify({"status": status, "title": titles[status], "detail": detail})
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="feedback"'
    return response
