"""A desk action's URL (…/approve, …/reject, …) also answers GET, with the request's page.

A refused POST shows the review page at the action's URL; reloading it later, opening it
from the history or sharing it is then a GET, which goes back to the page instead of a 405.
"""

from flask import abort, redirect, url_for

from requests_queue.models import ConsentRequest

from ..extensions import db
from .views import bp


@bp.get("/requests/<id:request_id>/<action>")
def action_page(request_id: int, action: str):
    """Back to the review page of the request the action belongs to (404 for no request)."""
    if db.session.get(ConsentRequest, request_id) is None:
        abort(404)
    return redirect(url_for(".review", request_id=request_id))
