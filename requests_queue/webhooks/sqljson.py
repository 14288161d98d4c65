"""JSON built by the database, for bodies written by INSERT … SELECT (SQLite and PostgreSQL).

PostgreSQL: json_build_object / json_agg; SQLite: json_object / json_group_array. Instants are
written as "2026-11-20T15:00:00Z" (UTC, whole seconds), the same as `stamp` in Python.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from ..models.webhooks import WebhookEvent


def stamp(instant: datetime) -> str:
    """An instant as every webhook body writes it."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_pg(dialect: str) -> bool:
    return dialect == "postgresql"


def value(dialect: str, item: Any) -> sa.ColumnElement:
    """A SQL expression for a JSON member: SQL as is, a dict as JSON, anything else bound."""
    if isinstance(item, sa.ColumnElement) or hasattr(item, "__clause_element__"):
        return item  # SQL, or a mapped attribute such as ConsentRequest.id
    if isinstance(item, dict):
        return constant(dialect, item)
    if item is None:
        return sa.null()
    if isinstance(item, bool):
        return sa.literal(item, sa.Boolean)
    if isinstance(item, int):
        return sa.literal(item, sa.Integer)
    return sa.literal(str(item), sa.String)


def obj(dialect: str, **members: Any) -> sa.ColumnElement:
    """A JSON object with these members, in this order."""
    args: list[sa.ColumnElement] = []
    for key, item in members.items():
        args += [sa.literal_column(_quoted(key)), value(dialect, item)]
    return (sa.func.json_build_object if _is_pg(dialect) else sa.func.json_object)(*args)


def _quoted(key: str) -> str:
    if not key.replace("_", "").isalnum():
        raise ValueError(f"not a plain JSON key: {key!r}")
    return f"'{key}'"


def constant(dialect: str, data: dict) -> sa.ColumnElement:
    """A JSON value given in Python."""
    text = sa.literal(json.dumps(data, separators=(",", ":")), sa.String)
    return sa.cast(text, sa.JSON) if _is_pg(dialect) else sa.func.json(text)


def agg(dialect: str, item: sa.ColumnElement, order_by: sa.ColumnElement) -> sa.ColumnElement:
    """A JSON array of `item` over the group (ordered by `order_by` on PostgreSQL)."""
    if _is_pg(dialect):
        return sa.func.json_agg(aggregate_order_by(item, order_by))
    return sa.func.json_group_array(item)


def as_json(dialect: str, column: sa.ColumnElement) -> sa.ColumnElement:
    """A JSON value read back from a subquery (SQLite forgets it was JSON on the way)."""
    return column if _is_pg(dialect) else sa.func.json(column)


def text(dialect: str, item: sa.ColumnElement) -> sa.ColumnElement:
    """The JSON as text, for the payload column."""
    return (sa.cast(item, sa.Text) if _is_pg(dialect) else item).label("payload")


def iso(dialect: str, column: sa.ColumnElement) -> sa.ColumnElement:
    """A stored UTC instant written as `stamp` writes it."""
    if _is_pg(dialect):
        return sa.func.to_char(column, sa.literal_column('\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''))
    return sa.func.strftime(sa.literal_column("'%Y-%m-%dT%H:%M:%SZ'"), column)


def request_number(dialect: str, request_id: sa.ColumnElement) -> sa.ColumnElement:
    """R-000123, as ConsentRequest.number writes it."""
    if _is_pg(dialect):
        digits = sa.cast(request_id, sa.Text)
        pad = sa.func.repeat(
            sa.literal_column("'0'"), sa.func.greatest(0, 6 - sa.func.length(digits))
        )
        return sa.func.concat(sa.literal_column("'R-'"), pad, digits)
    return sa.func.printf(sa.literal_column("'R-%06d'"), request_id)


def envelope(
    dialect: str, event: WebhookEvent, now: datetime, data: sa.ColumnElement
) -> sa.ColumnElement:
    """The Standard Webhooks body: type, timestamp, data."""
    return obj(dialect, type=event.value, timestamp=stamp(now), data=data)
