"""The web's contact filters (search, tag, import batch, status) as API input."""

from __future__ import annotations

from marshmallow import fields, validate

from requests_queue.models import EmailField, ImportBatch, Tag
from requests_queue.selection import ContactFilter
from requests_queue.statuses import EmailStatus

from ..ids import MAX_ID
from .auth import account_id, own
from .schemas import Schema, Text

ID = {"validate": validate.Range(min=1, max=MAX_ID), "strict": True}


class SelectionSchema(Schema):
    """Which contacts: every part optional, all of them applied (like the contact list)."""

    q = Text(100, load_default="", metadata={"description": "Name or address prefix."})
    tag = fields.Integer(allow_none=True, load_default=None, **ID)
    batch = fields.Integer(allow_none=True, load_default=None, **ID)
    status = fields.Enum(EmailStatus, by_value=True, allow_none=True, load_default=None)


class SelectionQuery(SelectionSchema):
    """The same filters in a query string."""

    tag = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    batch = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    status = fields.Enum(EmailStatus, by_value=True, load_default=None)


def EmailFields(**kwargs) -> fields.List:  # noqa: N802  (a field factory)
    """One to three of the email fields."""
    return fields.List(
        fields.Enum(EmailField, by_value=True),
        validate=validate.Length(min=1, max=3),
        **kwargs,
    )


def in_field_order(chosen: list[EmailField]) -> tuple[EmailField, ...]:
    """The chosen fields once each, in field order (as the web's `parse_fields` gives them)."""
    return tuple(f for f in EmailField if f in set(chosen))


def contact_filter(selection: dict | None) -> ContactFilter:
    """The caller's filter; a tag or batch of another account is a 404, as on the web."""
    selection = selection or {}
    tag_id, batch_id = selection.get("tag"), selection.get("batch")
    if tag_id is not None:
        own(Tag, tag_id)
    if batch_id is not None:
        own(ImportBatch, batch_id)
    return ContactFilter(
        account_id=account_id(),
        search=selection.get("q") or "",
        tag_id=tag_id,
        import_batch_id=batch_id,
        status=selection.get("status"),
    )


def chosen_addresses(body: dict) -> tuple[ContactFilter, tuple[EmailField, ...]]:
    """A body's `selection` as the caller's filter, and its `fields` in field order."""
    return contact_filter(body["selection"]), in_field_order(body["fields_"])
