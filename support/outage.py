"""When the database cannot be reached: a 503 page that needs nothing from it.

The site's own pages need the database even to draw their menu (who is logged in is a row in
it), so an outage turned every page into the server's bare "Internal Server Error". This page
is plain HTML with no layout, no user and no query, and says when to come back.
"""

from __future__ import annotations

from html import escape

import sqlalchemy as sa
from flask import Flask, Response, current_app, g

from .extensions import db

RETRY_AFTER_SECONDS = 30
_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Back soon · Consent Desk</title></head>
<body>
<main>
<h1>We'll be back in a moment</h1>
<p>Consent Desk cannot reach its database right now, so it cannot show this page. Nothing
that was saved is lost, and nothing was half-saved.</p>
<p>Please try again in a minute or two.</p>
<p><small>Request id: {request_id}</small></p>
</main>
</body>
</html>
"""


def database_reachable() -> bool:
    """A fresh connection answers `SELECT 1` (the pool's connections may all be dead)."""
    try:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError:
        return False
    return True


def unavailable_page() -> Response:
    """The 503 page, built from nothing but a string."""
    request_id = escape(str(g.get("request_id", "-")))
    response = Response(_PAGE.format(request_id=request_id), status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def register_outage_page(app: Flask) -> None:
    """Answer database connection failures with the 503 page instead of a broken 500."""

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(sa.exc.TimeoutError)  # the pool waited in vain for a connection
    def _database_error(error):
        db.session.remove()  # its connection is dead; never hand it to the next request
        if database_reachable():
            raise error  # something else went wrong: the ordinary 500 page
        current_app.logger.error("database unreachable: %s", type(error).__name__)
        return unavailable_page()
