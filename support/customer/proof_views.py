"""Proof of consent downloads: one address, the contact list's selection, a mass action's.

Each is streamed as it is read (requests_queue/proof), so a selection of a million addresses
never sits in memory; the customer sees only their own account (another's id is a 404).
"""

from flask import Response, abort, request, stream_with_context
from flask_login import current_user

from requests_queue.errors import ValidationError
from requests_queue.mass_actions import parse_fields
from requests_queue.models import EmailAddress, EmailField
from requests_queue.now import now_utc
from requests_queue.proof import (
    about_export,
    address_selection,
    as_csv,
    as_json,
    filter_selection,
    mass_action_selection,
    proof_events,
)
from requests_queue.selection import describe

from ..extensions import db
from .scoping import filter_from_args, own, own_mass_action
from .views import bp

FORMATS = {"csv": "text/csv", "json": "application/json"}


def _download(fmt: str, selection, name: str, described: str) -> Response:
    """The export of `selection` as a streamed attachment named `name`.`fmt`."""
    if fmt not in FORMATS:
        abort(404)
    account_id = current_user.account_id
    events = proof_events(db.session, account_id, selection)
    if fmt == "csv":
        body = as_csv(events)
    else:
        body = as_json(events, about_export(current_user, described, now_utc()))
    return Response(
        stream_with_context(body),
        mimetype=FORMATS[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/addresses/<id:address_id>/proof.<fmt>")
def address_proof(address_id: int, fmt: str):
    """Every step of one address's history with its evidence, as CSV or JSON."""
    address = own(EmailAddress, address_id)
    selection = address_selection(address.account_id, address.id)
    return _download(fmt, selection, f"proof-of-consent-address-{address.id}", address.display)


@bp.route("/contacts/proof.<fmt>")
def contacts_proof(fmt: str):
    """The proof of consent of the contact list's selection (its filter; `field` narrows the
    email fields, all three by default), as CSV or JSON."""
    flt = filter_from_args()
    selection = filter_selection(flt, _fields_asked())
    return _download(fmt, selection, "proof-of-consent-contacts", describe(db.session, flt))


def _fields_asked() -> tuple[EmailField, ...]:
    """The `field` arguments as email fields; every field when there is none."""
    values = request.args.getlist("field")
    if not values:
        return tuple(EmailField)
    try:
        return parse_fields(values)
    except ValidationError:
        abort(404)


@bp.route("/mass-actions/<id:batch_id>/proof.<fmt>")
def mass_action_proof(batch_id: int, fmt: str):
    """The proof of consent of every address a mass action changed, as CSV or JSON."""
    batch = own_mass_action(batch_id)
    selection = mass_action_selection(batch.id)
    name = f"proof-of-consent-mass-action-{batch.id}"
    return _download(fmt, selection, name, f"mass action #{batch.id}: {batch.selection}")
