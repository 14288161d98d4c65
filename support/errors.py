"""Readable error pages, including the one for a missing or stale CSRF token."""

from flask import Flask, Response, g, render_template
from flask_wtf.csrf import CSRFError

from .outage import database_reachable, register_outage_page, unavailable_page

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "Your role does not allow this page."),
    404: ("Not found", "There is nothing here, or it belongs to another account."),
    405: ("Method not allowed", "This page does not accept that kind of request."),
    413: ("File too large", "The upload is larger than this site accepts."),
    429: ("Too many requests", "Please wait a moment and try again."),
    500: ("Something went wrong", "The error was recorded. Nothing was half-saved."),
}


def register_error_pages(app: Flask) -> None:
    """Render every handled HTTP error with the site's layout."""

    def render(code: int, detail: str | None = None):
        title, message = MESSAGES.get(code, ("Error", ""))
        request_id = g.get("request_id") if code >= 500 else None
        try:
            page = render_template(
                "error.html", code=code, title=title, message=detail or message,
                request_id=request_id,
            )  # fmt: skip
        except Exception:
            # The layout asks who is logged in, which needs the database: a page that
            # failed for that reason must not fail again while saying so.
            if not database_reachable():
                return unavailable_page()
            text = f"{code} {title}. Request id: {request_id or '-'}"
            page = Response(text, code, mimetype="text/plain")
        return page, code

    register_outage_page(app)

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render(
            400,
            "The form had expired or was not sent from this site. "
            "Go back, reload the page and try again.",
        )

    for code in MESSAGES:
        if code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            app.register_error_handler(
                413, lambda e, limit=limit: render(413, f"Uploads are limited to {limit} MB.")
            )
        else:
            app.register_error_handler(code, lambda e, code=code: render(code))
