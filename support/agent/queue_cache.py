"""The queue pages this web process rendered, reused while nothing they show has changed.

Agents reload the queue all day and see the same rows: rendering its 25 rows with their
countdowns, counts and filters was most of a queue view's CPU (issue 16). A page's body is
kept under (viewer, query string, queue version, minute):
- the queue's version (`requests_queue.requests.queue_version`) grows with every committed
  change to what the body shows: a request, an account's name, a support user, the calendar.
  It is read before the body's data, so a body kept under a version is exactly what that
  version shows (`support.kept_facts.version_now`; a request that wrote keeps nothing);
- the viewer, because the body names them ("Mine", their zone, the forms their role may use);
- the minute, because the countdowns count down.
The body is rendered with a stand-in for the CSRF token, which each view puts back with its
own session's token. At most QUEUE_CACHE_PAGES bodies are kept per process, the least
recently shown dropped first; 0 keeps none.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from requests_queue.now import now_utc

from ..kept_facts import keep, version_now

# What the body holds where the viewer's CSRF token goes: random per process, so no text a
# user typed (escaped, and never this) can take its place.
TOKEN_STAND_IN = "csrf-" + secrets.token_hex(16)


class KeptPages:
    """Bodies by key, the least recently used dropped beyond `size` (thread-safe: the test
    server and threaded workers share one)."""

    def __init__(self, size: int):
        self.size = size
        self._bodies: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> str | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key: tuple, body: str) -> None:
        with self._lock:
            self._bodies[key] = body
            self._bodies.move_to_end(key)
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)


def _kept() -> KeptPages | None:
    size = current_app.config.get("QUEUE_CACHE_PAGES", 0)
    if size <= 0:
        return None
    kept = current_app.extensions.get("consent_desk.queue_pages")
    if kept is None or kept.size != size:
        kept = current_app.extensions["consent_desk.queue_pages"] = KeptPages(size)
    return kept


def queue_body(render: Callable[[Callable[[], str]], str]) -> Markup:
    """The queue page's body for this view: kept, or `render(csrf_token)` now and kept.

    `render` gets the function the template calls for the CSRF token."""
    kept = _kept()
    version = version_now() if kept is not None else None  # before the data `render` reads
    if version is None:  # nothing kept, or this request wrote: render afresh
        return Markup(render(generate_csrf))
    minute = now_utc().replace(second=0, microsecond=0)
    key = (current_user.id, request.query_string, version, minute)
    body = kept.get(key)
    if body is None:
        body = render(lambda: TOKEN_STAND_IN)
        if keep():  # a view that wrote while rendering keeps nothing
            kept.put(key, body)
    return Markup(body.replace(TOKEN_STAND_IN, generate_csrf()))
