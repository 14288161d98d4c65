"""Values read once per web request and reused by everything that renders it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import has_request_context, request

T = TypeVar("T")


def once_per_request(key: str, make: Callable[[], T]) -> T:
    """`make()` the first time `key` is asked for in this request, the same value after.

    Kept in the request's environ, not `g`, which a test's app context keeps across requests.
    Outside a request it is simply `make()`.
    """
    if not has_request_context():
        return make()
    environ = request.environ
    if key not in environ:
        environ[key] = make()
    return environ[key]
