"""Recipient pages, reached from the links in a confirmation email; no login, no JavaScript.

Confirming takes a button press (POST) after the GET page, never the GET itself: mail
security scanners and link previews open every link in an email, and a consent recorded on
their visit, with their IP and user agent as "proof", would be worth nothing. The same goes
for the unsubscribe page; RFC 8058's one-click POST is the machine-facing equivalent.

The paths match requests_queue/campaigns/links.py, which writes them into the emails.
"""

import logging

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from requests_queue.campaigns import (
    ConsentProof,
    Outcome,
    confirm_address,
    inspect_confirm,
    inspect_unsubscribe,
    unsubscribe_address,
)
from requests_queue.campaigns.links import LOG_FILTER, ONE_CLICK_POST
from requests_queue.errors import Conflict
from requests_queue.now import now_utc
from requests_queue.statuses import EventChannel

from ..edge import committed
from ..extensions import csrf, db
from .forms import ConfirmForm, UnsubscribeForm

bp = Blueprint("recipient", __name__)

# HTTP status per outcome: a link that cannot work says so to browsers and crawlers too.
STATUS = {Outcome.invalid: 404, Outcome.expired: 410}


@bp.record_once
def _hide_links_in_logs(state) -> None:
    # The request line of every recipient page carries its token, and so does the app's
    # "Exception on /r/confirm/…" line: hide it in the server's access log and the app's log.
    logging.getLogger("werkzeug").addFilter(LOG_FILTER)
    state.app.logger.addFilter(LOG_FILTER)


@bp.after_request
def _private(response):
    # The token in the URL is a key: keep it out of caches, search engines and Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _secret() -> tuple[str, ...]:
    # After a SECRET_KEY rotation, links signed with the previous key still work
    # (SECRET_KEY_PREVIOUS, see docs/operations.md).
    config = current_app.config
    return (config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", ()))


def _proof(channel: EventChannel = EventChannel.recipient_link) -> ConsentProof:
    # Behind a reverse proxy, deploy with ProxyFix so remote_addr is the visitor's address.
    return ConsentProof(
        ip=request.remote_addr or "", user_agent=request.user_agent.string[:300], channel=channel
    )


def _page(result, form=None):
    return (
        render_template("recipient/page.html", result=result, Outcome=Outcome, form=form),
        STATUS.get(result.outcome, 200),
    )


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """The confirmation link: a page with a button; the button confirms."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            with committed():
                result = confirm_address(db.session, _secret(), token, now_utc(), _proof())
        except Conflict:  # another click used the link at the same instant: show what it did
            result = inspect_confirm(db.session, _secret(), token, now_utc())
        return _page(result)
    return _page(inspect_confirm(db.session, _secret(), token, now_utc()), form)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """The unsubscribe link in the text: a page with a button; the button unsubscribes."""
    form = UnsubscribeForm()
    if form.validate_on_submit():
        with committed():
            result = unsubscribe_address(db.session, _secret(), token, now_utc(), _proof())
        return _page(result)
    return _page(inspect_unsubscribe(db.session, _secret(), token, now_utc()), form)


@bp.route("/unsubscribe/<token>/one-click", methods=["GET", "POST"])
@csrf.exempt
def one_click(token: str):
    """RFC 8058 one-click unsubscribe: the mail client POSTs `List-Unsubscribe=One-Click`.

    Exempt from CSRF on purpose, and the only exempt endpoint: the POST comes from the mailbox
    provider's servers (Gmail, Yahoo…), never from a page of ours, so it cannot carry our CSRF
    token or cookie. CSRF protects a logged-in session from forged requests; here there is no
    session to abuse, the signed token in the URL is the whole authorisation, and all it can do
    is what the recipient asked for: unsubscribe this one address.
    """
    if request.method == "GET":  # an older client opening the header's URL in a browser
        return redirect(url_for(".unsubscribe", token=token))
    if request.form.get("List-Unsubscribe") != ONE_CLICK_POST.partition("=")[2]:
        abort(400, "expected List-Unsubscribe=One-Click (RFC 8058)")
    with committed():
        result = unsubscribe_address(
            db.session, _secret(), token, now_utc(), _proof(EventChannel.one_click)
        )
    if result.outcome in (Outcome.invalid, Outcome.expired):
        return "This unsubscribe link is not valid.\n", STATUS[result.outcome], _TEXT
    return "You are unsubscribed.\n", 200, _TEXT


_TEXT = {"Content-Type": "text/plain; charset=utf-8"}
