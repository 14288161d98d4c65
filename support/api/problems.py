"""Every API error as RFC 9457 `application/problem+json`, with field-named messages.

The domain's `ValidationError(field, reason)` becomes one entry of `errors`, exactly the
message the web form shows next to that field; request-shape errors (webargs/marshmallow)
become entries the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

from flask import Blueprint, Flask, Response, json, request
from werkzeug.exceptions import HTTPException, default_exceptions

from requests_queue.errors import Conflict, InvalidTransition, NotFound, ValidationError
from requests_queue.requests.state_machine import NotAllowed

from ..extensions import db
from ..form_errors import refusal

API_PREFIX = "/api/"
PROBLEM_TYPE = "application/problem+json"


def problem(
    status: int,
    detail: str = "",
    errors: Iterable[tuple[str | None, str]] = (),
    headers: dict | None = None,
) -> Response:
    """A problem+json response; `errors` are (field, message) pairs."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body = {
        "type": "about:blank",  # the status code says it all (RFC 9457 §4.2.1)
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": request.path,
        "errors": [{"field": field, "message": message} for field, message in errors],
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten(messages, prefix: str = "", *, top: bool = True) -> list[tuple[str | None, str]]:
    """webargs' nested {location: {field: [messages]}} as (field, message) pairs (only the
    outer keys are locations: a field may be called `files` too)."""
    pairs: list[tuple[str | None, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            key = str(key)
            if top and key in ("json", "query", "form", "files", "path", "headers"):
                pairs += _flatten(value, top=False)
            elif key == "_schema":
                pairs += _flatten(value, prefix, top=False)
            else:
                pairs += _flatten(value, f"{prefix}.{key}" if prefix else key, top=False)
    elif isinstance(messages, list | tuple):
        for value in messages:
            pairs += _flatten(value, prefix, top=False)
    else:
        pairs.append((prefix or None, str(messages)))
    return pairs


def _http_error(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    errors = _flatten(data.get("messages", {}))
    detail = "Some fields are not valid." if errors else (error.description or "")
    headers = dict(getattr(error, "headers", None) or {})
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(error.code or 500, detail, errors, headers)


def validation_problem(errors: Iterable[ValidationError]) -> Response:
    """422 with each domain error next to the field it names (or form-wide)."""
    errors = list(errors)
    detail = refusal(errors[0]) if len(errors) == 1 else "Some fields are not valid."
    return problem(422, detail, [(e.field, refusal(e)) for e in errors])


def _rolled_back(handler):
    """Nothing half-done is committed later: the failed call's changes are dropped first."""

    def handle(error):
        db.session.rollback()
        return handler(error)

    return handle


def register_problem_handlers(bp: Blueprint) -> None:
    """Domain errors and HTTP errors raised in `bp`'s views become problems."""
    handlers = {
        HTTPException: _http_error,
        ValidationError: lambda e: validation_problem([e]),
        NotFound: lambda e: problem(404, "There is nothing here."),
        NotAllowed: lambda e: problem(403, refusal(e)),
        InvalidTransition: lambda e: problem(409, refusal(e)),
        Conflict: lambda e: problem(409, refusal(e)),
    }
    for error, handler in handlers.items():
        bp.register_error_handler(error, _rolled_back(handler))
    # Flask prefers the app's handler for a code (its HTML pages) to a blueprint's handler
    # for a class, so the blueprint claims each code too.
    for code in default_exceptions:
        bp.register_error_handler(code, _rolled_back(_http_error))


def register_routing_problems(app: Flask) -> None:
    """An unknown API path or method is a problem too, before CSRF or the HTML error pages."""

    def _unrouted():
        error = request.routing_exception
        # A redirect (a missing trailing slash) is no error: Flask answers it as usual.
        is_error = isinstance(error, HTTPException) and (error.code or 500) >= 400
        if is_error and request.path.startswith(API_PREFIX):
            return _http_error(error)
        return None

    # First of the app's hooks: CSRFProtect would otherwise refuse a POST to a path it cannot
    # route with an HTML page, and no blueprint's error handler sees an unrouted request.
    app.before_request_funcs.setdefault(None, []).insert(0, _unrouted)
