"""Tenants and the people who log in."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..now import now_utc
from .base import Base, TitledEnum, UTCDateTime, enum_column


class Role(TitledEnum):
    """What a user may do; customers belong to exactly one account."""

    customer = ("customer", "Customer")
    agent = ("agent", "Support agent")
    manager = ("manager", "Support manager")


class Account(Base):
    """A customer of the email platform (a tenant); owns contacts, batches and requests."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # An upper bound of the id of the account's latest status change of an existing address,
    # set by every such writer (`status_changes`) under the account's lock: no event of the
    # account after it, so "nothing changed since event N" is one row to read.
    status_changed_through: Mapped[int] = mapped_column(
        sa.BigInteger, default=0, server_default="0"
    )

    users: Mapped[list[User]] = relationship(back_populates="account")

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.name!r}>"


class User(Base):
    """A person who logs in: a customer of one account, or a support agent or manager."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'customer') = (account_id IS NOT NULL)", name="customer_has_account"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    # Bumped by logout, a password change and "sign out everywhere": every session cookie
    # carries the value it was issued with, and one that differs no longer logs anyone in.
    session_version: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    is_active: Mapped[bool] = mapped_column(default=True)
    # The IANA zone every time is shown in for this person; NULL until the first login
    # brings the browser's zone (or the person picks one), the team's zone until then.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    account: Mapped[Account | None] = relationship(back_populates="users")

    @property
    def is_support(self) -> bool:
        """Agents and managers work the support queue."""
        return self.role in (Role.agent, Role.manager)

    @property
    def display_name(self) -> str:
        """The name if one is set, else the login address."""
        return self.name or self.email

    # Flask-Login's protocol, kept here so the web layer needs no wrapper class.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"
