"""Optional error reports to Sentry (SENTRY_DSN): off unless set, and never personal data.

Only what helps find the bug goes out: the exception, its stack, the route and the request
id that the 500 page shows the user. No cookie, header, query string, form, user or address
is sent (no personal data collected, and the request part is trimmed to method and URL path), and
recipient links are hidden in every message.
"""

from __future__ import annotations

from flask import Flask, g, has_request_context

from requests_queue.campaigns.links import hide_recipient_links


def _scrub(event: dict, _hint: dict) -> dict:
    """The event as it may leave: no personal data, request id as a tag."""
    request = event.get("request") or {}
    url = request.get("url", "")
    event["request"] = {"method": request.get("method"), "url": hide_recipient_links(url)}
    event.pop("user", None)
    for exception in (event.get("exception") or {}).get("values", []):
        exception["value"] = hide_recipient_links(exception.get("value") or "")
    if isinstance(event.get("logentry"), dict):
        entry = event["logentry"]
        entry["message"] = hide_recipient_links(entry.get("message") or "")
        entry["params"] = []
    for crumb in (event.get("breadcrumbs") or {}).get("values", []):
        crumb["message"] = hide_recipient_links(crumb.get("message") or "")
        crumb.pop("data", None)
    if has_request_context() and g.get("request_id"):
        event.setdefault("tags", {})["request_id"] = g.request_id
    return event


def register_error_reports(app: Flask) -> None:
    """Start the Sentry client with the Flask integration when SENTRY_DSN is set."""
    dsn = app.config["SENTRY_DSN"]
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[FlaskIntegration()],
        environment=app.config["SENTRY_ENVIRONMENT"],
        # What send_default_pii=False meant, spelled out (that option is deprecated in 2.x):
        # no user, cookie, body, query string or frame variable (they hold addresses, tokens).
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        traces_sample_rate=0,
        before_send=_scrub,
    )
