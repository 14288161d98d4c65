"""Contacts: list with the web's filters, read, create, update (with the permission question),
and the account's tags."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import fields, validate

from requests_queue.contacts import ContactData, create_contact, update_contact
from requests_queue.models import Contact, EmailField, Tag
from requests_queue.now import now_utc
from requests_queue.selection import contact_ids, contacts_listed
from requests_queue.statuses import MARKETABLE, EmailStatus

from ..edge import committed
from ..extensions import db
from .auth import CUSTOMERS, account_id, api_actor, own, own_rows, protect
from .problems import register_problem_handlers
from .schemas import PageArgs, Schema, Text, created, cursor_of, page_of, page_schema
from .selection import SelectionQuery, contact_filter

bp = Blueprint("contacts", __name__, description="Contacts and tags (customers).")
protect(bp, CUSTOMERS)
register_problem_handlers(bp)

MAX_TAGS = 50


class AddressOut(Schema):
    """One address of a contact, with its own status."""

    field = fields.Enum(EmailField, by_value=True, required=True)
    address = fields.String(required=True, metadata={"description": "Canonical form."})
    typed = fields.String(attribute="display", required=True)
    status = fields.Enum(EmailStatus, by_value=True, required=True)
    marketable = fields.Function(
        lambda a: a.status in MARKETABLE, required=True, metadata={"type": "boolean"}
    )
    since = fields.DateTime(attribute="status_changed_at", required=True)


class ContactOut(Schema):
    """A contact and its addresses."""

    id = fields.Integer(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    company = fields.String(required=True)
    phone = fields.String(required=True)
    tags = fields.Function(
        lambda c: [t.name for t in c.tags],
        required=True,
        metadata={"type": "array", "items": {"type": "string"}},
    )
    import_batch_id = fields.Integer(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    addresses = fields.List(fields.Nested(AddressOut), required=True)


class EmailsIn(Schema):
    """Up to three addresses; an empty or missing field has no address."""

    email = Text(320, load_default="")
    email2 = Text(320, load_default="")
    email3 = Text(320, load_default="")


class ContactIn(Schema):
    """A contact as the form takes it; `consent_recorded` answers the permission question."""

    first_name = Text(100, load_default="")
    last_name = Text(100, load_default="")
    company = Text(200, load_default="")
    phone = Text(50, load_default="")
    emails = fields.Nested(EmailsIn, load_default=dict)
    tags = fields.List(Text(80), load_default=list, validate=validate.Length(max=MAX_TAGS))
    consent_recorded = fields.Boolean(
        required=True,
        metadata={
            "description": "Did the recipient give you permission to email the new addresses? "
            "Without it, new or changed addresses start non-marketable."
        },
    )


class ContactQuery(SelectionQuery, PageArgs):
    """The contact list's filters and page."""


class TagOut(Schema):
    """One of the account's tags."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)


class TagList(Schema):
    """Every tag of the account."""

    items = fields.List(fields.Nested(TagOut), required=True)


def _data(body: dict) -> ContactData:
    emails = body["emails"]
    return ContactData(
        first_name=body["first_name"],
        last_name=body["last_name"],
        company=body["company"],
        phone=body["phone"],
        emails={f: emails.get(f.value, "") for f in EmailField},
        tag_names=tuple(body["tags"]),
        consent_recorded=body["consent_recorded"],
    )


def _loaded(contact_id: int) -> Contact:
    contact = own(Contact, contact_id)
    db.session.refresh(contact)
    return contact


@bp.route("/contacts")
@bp.arguments(ContactQuery, location="query")
@bp.response(200, page_schema(ContactOut, "ContactPage"))
def list_contacts(args: dict):
    """The account's contacts newest first, with the contact list's filters."""
    ids = contact_ids(contact_filter(args))
    column = ids.selected_columns[0]
    before = cursor_of(args)
    if before is not None:
        ids = ids.where(column < before)
    limit = args["limit"]
    page = list(db.session.scalars(ids.order_by(column.desc()).limit(limit + 1)))
    rows = db.session.scalars(contacts_listed(page)).all()
    items, next_url = page_of(list(rows), limit)
    return {"items": items, "next": next_url}


@bp.route("/contacts/<id:contact_id>")
@bp.response(200, ContactOut)
def get_contact(contact_id: int):
    """One contact with each address's status."""
    return own(Contact, contact_id)


@bp.route("/contacts", methods=["POST"])
@bp.arguments(ContactIn)
@bp.response(201, ContactOut)
def new_contact(body: dict):
    """Add a contact; new addresses start single opt-in only with permission recorded."""
    with committed():
        contact = create_contact(db.session, account_id(), _data(body), api_actor(), now_utc())
    return created(_loaded(contact.id), 201, ".get_contact", contact_id=contact.id)


@bp.route("/contacts/<id:contact_id>", methods=["PUT"])
@bp.arguments(ContactIn)
@bp.response(200, ContactOut)
def edit_contact(body: dict, contact_id: int):
    """Replace a contact's fields; a changed address is a new address (the permission question
    decides its status), and an address taken away keeps its status and history."""
    contact = own(Contact, contact_id)
    with committed():
        update_contact(db.session, contact, _data(body), api_actor(), now_utc())
    return _loaded(contact.id)


@bp.route("/tags")
@bp.response(200, TagList)
def tags():
    """The account's tags by name (contacts get tags through create and update)."""
    return {"items": list(db.session.scalars(own_rows(Tag).order_by(Tag.name)))}
