"""Jinja filters and globals shared by every page."""

from flask import Flask, request, url_for

from requests_queue.statuses import EmailStatus

from .linkify import linkify
from .times import format_time, viewer_zone_name


def _url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


_SENTINEL = 987_654_321


def _url_by_id(endpoint: str, key: str = "request_id"):
    """`url_for(endpoint, key=id)` for the many rows of a table: the rule is built once with a
    stand-in id, and each row's link is that text with its own id (a queue page of 25 rows
    built 50 links through the router, a fifth of its template's time)."""
    head, tail = url_for(endpoint, **{key: _SENTINEL}).split(str(_SENTINEL), 1)
    return lambda value: f"{head}{int(value)}{tail}"


def counted(n: int, noun: str, plural: str = "") -> str:
    """A number with its noun agreeing: "1 contact", "20 contacts", "1,234 addresses"."""
    if n == 1:
        return f"1 {noun}"
    if not plural:
        plural = noun + ("es" if noun.endswith(("s", "x", "sh", "ch")) else "s")
    return f"{n:,} {plural}"


def register_templating(app: Flask) -> None:
    """Install the filters and globals."""
    app.jinja_env.filters["dt"] = format_time  # the one way a page shows a time (support/times.py)
    app.jinja_env.globals["viewer_zone_name"] = viewer_zone_name
    app.jinja_env.filters["number"] = lambda n: f"{n:,}"
    app.jinja_env.filters["counted"] = counted  # {{ n|counted('contact') }}: 1 contact, 2 contacts
    app.jinja_env.filters["linkify"] = linkify
    app.jinja_env.globals["url_with"] = _url_with
    app.jinja_env.globals["url_by_id"] = _url_by_id  # {% set link = url_by_id('agent.review') %}
    app.jinja_env.globals["EmailStatus"] = EmailStatus
