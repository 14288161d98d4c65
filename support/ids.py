"""The one parser of ids, page numbers and search text that arrive in URLs.

`int()` and `str.isdigit()` accept more than an id: `int("٣")` is 3, `"²".isdigit()` is true but
`int("²")` raises, and a 30-digit number parses but overflows the database driver. Every id in a
path (`<id:contact_id>`), every id in a query string and every page number goes through here, so
such values are simply "no such thing": a 404, an ignored filter, or page 1.
"""

import re

from flask import Flask, request
from werkzeug.routing import BaseConverter, ValidationError

from requests_queue.ids import MAX_ID

_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: `\d` and `isdigit()` take other scripts too


def parse_number(raw: str | None) -> int | None:
    """The whole number 1..MAX_ID that `raw` spells in plain ASCII digits, else None."""
    if raw is None or _DIGITS.fullmatch(raw) is None:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def query_id(name: str) -> int | None:
    """The id in query argument `name`, or None when it is missing or cannot be an id."""
    return parse_number(request.args.get(name))


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def query_text(name: str, limit: int) -> str:
    """Free text from the query string (a search), trimmed, at most `limit` characters, with
    control characters removed: PostgreSQL refuses a NUL in any string, so one would be a 500."""
    return _CONTROL.sub("", request.args.get(name, "")).strip()[:limit]


def page_number(name: str = "page") -> int:
    """The page asked for in the query string; page 1 when it is missing or not a page number."""
    return parse_number(request.args.get(name)) or 1


class IdConverter(BaseConverter):
    """`<id:name>` in a route: matches only an id the database can hold, so others are a 404."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        """The id, or no match (Werkzeug then answers 404)."""
        number = parse_number(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: int) -> str:
        """An id as it appears in a URL."""
        return str(int(value))


def register_id_converter(app: Flask) -> None:
    """Make `<id:...>` available to every blueprint's routes (before they are registered)."""
    app.url_map.converters["id"] = IdConverter
