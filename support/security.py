"""The security headers of every response, set in one place.

The Content-Security-Policy allows no inline script at all: the pages' JavaScript is in
support/static (data travels in `<script type="application/json">` blocks, which never run).
The few `<style>` blocks that stay in templates carry this response's nonce (`csp_nonce()`),
and there are no inline style attributes, so styles need no 'unsafe-inline' either.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, request

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",  # Pico draws its checkboxes and selects with data: SVGs
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
HSTS = "max-age=31536000; includeSubDomains"  # a year, once the site is served over HTTPS only


NONCE_KEY = "consent_desk.csp_nonce"


def csp_nonce() -> str:
    """This response's nonce for a template's `<style nonce="…">` block."""
    # Kept in the request's environ, not in `g`: `g` lives as long as the app context, which
    # a test (or a CLI command) can keep across several requests.
    return request.environ.setdefault(NONCE_KEY, secrets.token_urlsafe(16))


def content_security_policy(nonce: str | None = None) -> str:
    """The policy's header value; `nonce` admits the `<style>` blocks that carry it."""
    policy = dict(POLICY)
    if nonce:
        policy["style-src"] += f" 'nonce-{nonce}'"
    return "; ".join(f"{name} {sources}" for name, sources in policy.items())


def register_security_headers(app: Flask) -> None:
    """Send the security headers with every response, pages, errors and static files alike."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        nonce = request.environ.get(NONCE_KEY)
        headers["Content-Security-Policy"] = content_security_policy(nonce)
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        # Pages that set their own keep it: the recipient's pages send no Referer at all,
        # since their URL holds the recipient's token.
        headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):  # served over HTTPS only: HSTS is safe
            headers["Strict-Transport-Security"] = HSTS
        return response
