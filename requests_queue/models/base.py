"""Declarative base, constraint naming convention and column types shared by all models."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from ..enums import TitledEnum  # noqa: F401  (re-exported for models)

# Stable names make migrations reproducible on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every Consent Desk model."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def made_with_schema(postgresql: tuple[str, ...], sqlite: tuple[str, ...]) -> None:
    """Run these statements (triggers the schema relies on) on the database's dialect right
    after `create_all` makes the tables; migrations run frozen copies of them."""

    @sa.event.listens_for(Base.metadata, "after_create")
    def _make(_metadata, connection, **_kw) -> None:
        statements = {"postgresql": postgresql, "sqlite": sqlite}.get(connection.dialect.name, ())
        for statement in statements:
            connection.exec_driver_sql(statement)


class UTCDateTime(sa.TypeDecorator):
    """Aware UTC datetimes in Python, naive UTC in the database (SQLite has no time zones)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the domain works in aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL results on SQLite
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A string column holding an enum's values, guarded by a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
