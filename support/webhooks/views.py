"""Webhook settings: register endpoints (secret shown once), see deliveries, retry, remove.

One page for both owners: a customer manages their account's endpoints, a manager the
desk's. Agents have none (403); anybody else's endpoint is a 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from requests_queue.models import Role
from requests_queue.now import now_utc
from requests_queue.webhooks import endpoints as ops
from requests_queue.webhooks.targets import TargetPolicy

from ..edge import operation
from ..extensions import db
from .forms import ButtonForm, EndpointForm

bp = Blueprint("webhooks", __name__, url_prefix="/account/webhooks")


@bp.before_request
@login_required
def only_owners() -> None:
    """Customers and managers; agents have no endpoints."""
    if current_user.role not in (Role.customer, Role.manager):
        abort(403)


def _owner() -> ops.Owner:
    return ops.owner_of(current_user._get_current_object())


def _form(owner: ops.Owner, **kw) -> EndpointForm:
    form = EndpointForm(**kw)
    form.events.choices = [(e.value, e.title) for e in owner.events]
    return form


def _list_page(form: EndpointForm, created=None, status: int = 200):
    owner = _owner()
    endpoints = ops.endpoints_of(db.session, owner)
    counts = ops.delivery_counts(db.session, [e.id for e in endpoints])
    page = render_template(
        "webhooks/endpoints.html",
        form=form,
        endpoints=endpoints,
        counts=counts,
        created=created,
        is_desk=owner.account_id is None,
    )
    return page, status


@bp.route("", methods=["GET", "POST"])
def endpoints():
    """The owner's endpoints and the form to add one; a new secret is shown once, here."""
    owner = _owner()
    form = _form(owner)
    if not form.validate_on_submit():
        return _list_page(form, status=400 if form.is_submitted() else 200)
    with operation(form) as op:
        created = ops.create_endpoint(
            db.session,
            current_user._get_current_object(),
            form.url.data,
            form.events.data or [],
            form.description.data,
            TargetPolicy.from_settings(current_app.config),
            now_utc(),
        )
    if not op.done:
        return _list_page(form, status=400)
    # Rendered, not flashed: a flash would travel in the (signed, not encrypted) cookie.
    return _list_page(_form(owner, formdata=None), created=created)


def _endpoint_page(endpoint, secret: str | None = None):
    return render_template(
        "webhooks/endpoint.html",
        endpoint=endpoint,
        deliveries=ops.recent_deliveries(db.session, endpoint),
        button=ButtonForm(),
        secret=secret,
    )


@bp.route("/<id:endpoint_id>")
def endpoint(endpoint_id: int):
    """One endpoint: its events and its latest deliveries with the last answer of each."""
    with operation():  # NotFound: a 404
        found = ops.get_endpoint(db.session, _owner(), endpoint_id)
    return _endpoint_page(found)


def _button_or_400() -> None:
    if not ButtonForm().validate_on_submit():
        abort(400)


@bp.route("/<id:endpoint_id>/rotate", methods=["POST"])
def rotate(endpoint_id: int):
    """A new signing secret, shown once; every delivery from now on is signed with it."""
    _button_or_400()
    with operation():
        rotated = ops.rotate_secret(db.session, _owner(), endpoint_id)
    return _endpoint_page(rotated, secret=rotated.secret)


@bp.route("/<id:endpoint_id>/retry", methods=["POST"])
def retry(endpoint_id: int):
    """Put the endpoint's failed deliveries back in line for another 24 hours."""
    _button_or_400()
    with operation():
        count = ops.retry_failed(db.session, _owner(), endpoint_id, now_utc())
    flash(f"{count:,} failed deliver{'y' if count == 1 else 'ies'} will be sent again.", "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.route("/<id:endpoint_id>/delete", methods=["POST"])
def delete(endpoint_id: int):
    """Remove the endpoint; nothing more is sent to it, waiting deliveries included."""
    _button_or_400()
    with operation():
        removed = ops.delete_endpoint(db.session, _owner(), endpoint_id)
    flash(f"Endpoint {removed.url} is removed.", "success")
    return redirect(url_for("webhooks.endpoints"))
