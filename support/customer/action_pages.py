"""A request action's URL (…/answer) also answers GET, with the request's page.

A refused answer shows the request page at the action's URL; reloading it later or opening
it from the history is then a GET, which goes back to the page instead of a 405.
"""

from flask import redirect, url_for

from requests_queue.models import ConsentRequest

from .scoping import own
from .views import bp


@bp.get("/requests/<id:request_id>/answer")
def answer_page(request_id: int):
    """Back to the request (another account's request is a 404)."""
    own(ConsentRequest, request_id)
    return redirect(url_for(".customer_request", request_id=request_id))
