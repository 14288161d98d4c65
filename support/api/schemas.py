"""Schemas shared by the API's resources: safe text, cursors, problems, pages, and the answer
to a POST that made something."""

from __future__ import annotations

import re

import marshmallow as ma
import sqlalchemy as sa
from flask import request, url_for
from marshmallow import fields, validate

from ..extensions import db
from ..ids import parse_number

PAGE_DEFAULT = 50
PAGE_MAX = 200
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates: no database keeps them


def _storable(value: str) -> None:
    if UNSTORABLE.search(value):
        raise ma.ValidationError("contains characters that cannot be stored (NUL or a surrogate)")


def Text(max_length: int, **kwargs) -> fields.String:  # noqa: N802  (a field factory)
    """A string at most `max_length` long that both databases can store."""
    return fields.String(validate=[validate.Length(max=max_length), _storable], **kwargs)


class TextList(fields.List):
    """`fields.List(Text(max_length))`, documented the same, read in one pass when every item
    is a short storable string (a send-time batch of a thousand); anything else goes through
    the per-item validation, so its errors name the item as before."""

    def __init__(self, max_length: int, **kwargs):
        super().__init__(Text(max_length), **kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        if (
            isinstance(value, list)
            and all(type(item) is str and len(item) <= self.max_length for item in value)
            and not UNSTORABLE.search("".join(value))
        ):
            return list(value)
        return super()._deserialize(value, attr, data, **kwargs)


class Schema(ma.Schema):
    """Unknown fields are refused, so a misspelt field is an error rather than ignored."""

    class Meta:
        unknown = ma.RAISE


class FieldError(Schema):
    """One message, next to the field it belongs to (null: about the request as a whole)."""

    field = fields.String(allow_none=True, required=True)
    message = fields.String(required=True)


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldError), required=True)


class PageArgs(Schema):
    """`cursor` (from a previous page's `next`) and `limit`."""

    cursor = fields.String(
        validate=validate.Regexp(r"^[0-9]{1,10}$", error="not a cursor from a `next` link"),
        metadata={"description": "The `cursor` of the previous page's `next` link."},
    )
    limit = fields.Integer(
        load_default=PAGE_DEFAULT,
        validate=validate.Range(min=1, max=PAGE_MAX),
        metadata={"description": f"Items per page (1–{PAGE_MAX})."},
    )


def cursor_of(args: dict) -> int | None:
    """The id a page starts after (None: the first page); 422 when it cannot be one."""
    raw = args.get("cursor")
    if raw is None:
        return None
    value = parse_number(raw)
    if value is None:
        from flask_smorest import abort

        abort(422, messages={"query": {"cursor": ["not a cursor from a `next` link"]}})
    return value


def page_of(rows: list, limit: int, key=lambda row: row.id) -> tuple[list, str | None]:
    """The page's rows (the query fetched `limit + 1`) and the `next` link, None at the end."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    args = request.args.to_dict()
    args.update(cursor=str(key(rows[-1])), limit=str(limit))
    return rows, url_for(request.endpoint, **(request.view_args or {}), **args)


def keyset_page(query: sa.Select, column, args: dict, *, newest_first: bool = False) -> dict:
    """One page of `query` in `column` order after the request's cursor: `{"items", "next"}`.

    A query of one entity pages its objects, a query of several columns its rows; either way
    the cursor is the last item's `column` value.
    """
    cursor = cursor_of(args)
    if cursor is not None:
        query = query.where(column < cursor if newest_first else column > cursor)
    limit = args["limit"]
    result = db.session.execute(
        query.order_by(column.desc() if newest_first else column).limit(limit + 1)
    )
    rows = result.scalars().all() if len(query.column_descriptions) == 1 else result.all()
    items, next_url = page_of(list(rows), limit, key=lambda row: getattr(row, column.key))
    return {"items": items, "next": next_url}


def created(body, status: int, endpoint: str, **values) -> tuple:
    """The answer to a POST that made something: `body`, `status` (201, or 202 when it goes on
    in the background) and a Location header naming where it can be read from now on."""
    return body, status, {"Location": url_for(endpoint, **values)}


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """`{"items": [...], "next": "…" | null}` of `item`."""
    return type(
        name,
        (Schema,),
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next": fields.String(
                allow_none=True,
                required=True,
                metadata={"description": "The next page, or null on the last one."},
            ),
        },
    )
