"""Log lines an operator can search: one per event, each naming its request or background run.

LOG_FORMAT=json writes one JSON object per line on stderr (`make serve`, the systemd units);
plain (the default, `make run`) writes readable lines. Every line of a web request carries the
request id (X-Request-ID from a trusted proxy, else a new one; returned in the response), the
user id and the account id; jobs and background runs carry their run id. Recipient links are
hidden in every line, and no password, token, cookie or query string is ever logged.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from flask_login import user_logged_in
from pythonjsonlogger.json import JsonFormatter

from requests_queue.campaigns.links import LOG_FILTER, hide_recipient_links
from requests_queue.logcontext import current_run

from .extensions import login_manager

log = logging.getLogger("consent_desk.requests")
_HANDLER_NAME = "consent-desk"
# What a proxy may send as a request id: short, and nothing that could forge a log line.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
PLAIN = "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"


class ContextFilter(logging.Filter):
    """Give every record request_id, user_id, account_id and run_id (None when not known)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the fields; never drops a record."""
        record.request_id = record.user_id = record.account_id = None
        if has_request_context():
            record.request_id = g.get("request_id")
            record.user_id, record.account_id = g.get("log_user", (None, None))
        record.run_id = current_run.get()
        return True


class _Plain(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = [record.request_id, record.run_id]
        if record.user_id:
            parts.append(f"user {record.user_id} account {record.account_id or '-'}")
        record.context = " ".join(p for p in parts if p) or "-"
        return super().format(record)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (a supervisor's pipe, a test's capture)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _formatter(kind: str) -> logging.Formatter:
    if kind == "json":
        return JsonFormatter(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,  # ISO 8601, UTC
        )
    return _Plain(PLAIN)


def configure_logging(kind: str = "plain", level: str = "INFO") -> None:
    """One handler on the root logger (once per process): the format, the context, no links."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = _StderrHandler()
        handler.set_name(_HANDLER_NAME)
        handler.addFilter(ContextFilter())
        handler.addFilter(LOG_FILTER)  # recipient links hidden in every line, whoever logs it
        root.addHandler(handler)
    handler.setFormatter(_formatter(kind))
    root.setLevel(level.upper())
    # In JSON the app's own request line (below) replaces werkzeug's, which shows query
    # strings; plain keeps it, with the development server's "Running on …" banner.
    logging.getLogger("werkzeug").setLevel(logging.WARNING if kind == "json" else logging.NOTSET)


def _remember_user(user) -> None:
    # Kept as plain numbers when the user is loaded: reading them from the model later could
    # need the database (expired attributes), and a log line must never query.
    g.log_user = (user.id, user.account_id)


def register_logging(app: Flask) -> None:
    """Log format from LOG_FORMAT, a request id on every request, one line per request."""
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    trusted = app.config["TRUSTED_PROXIES"] > 0

    load = login_manager._user_callback  # Flask-Login keeps the loader here (0.6)
    if load is not None and not getattr(load, "remembers_user", False):

        def load_and_remember(user_id):
            user = load(user_id)
            if user is not None:
                _remember_user(user)
            return user

        load_and_remember.remembers_user = True
        login_manager._user_callback = load_and_remember

    def _logged_in(_app, user, **_extra):
        _remember_user(user)

    user_logged_in.connect(_logged_in, app, weak=False)

    @app.before_request
    def _start():
        given = request.headers.get("X-Request-ID", "") if trusted else ""
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
            took = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
            log.info(
                "%s %s %s %.0f ms",
                request.method,
                hide_recipient_links(request.path),  # the path only: never the query string
                response.status_code,
                took,
                extra={
                    "status": response.status_code,
                    "duration_ms": round(took, 1),
                    "client": request.remote_addr,  # the visitor's, behind a trusted proxy
                },
            )
        return response
