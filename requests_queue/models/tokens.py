"""Personal API tokens: only a prefix (to recognise one) and a hash (to check one) are stored."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..now import now_utc
from .base import Base, TitledEnum, UTCDateTime, enum_column


class TokenScope(TitledEnum):
    """What a token may do: read only, or read and change."""

    read = ("read", "Read")
    write = ("write", "Read and write")


class ApiToken(Base):
    """A user's named token for `Authorization: Bearer …`; its secret is shown once, never kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (sa.Index("ix_api_tokens_user", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(sa.String(80))
    scope: Mapped[TokenScope] = mapped_column(enum_column(TokenScope, "token_scope"))
    # The token's first characters, shown in lists so the owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    # sha256 of the whole token: it is random and long, so a slow hash would add nothing.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_ip: Mapped[str | None] = mapped_column(sa.String(45))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    @property
    def is_revoked(self) -> bool:
        """True once the owner (or an operator) revoked it."""
        return self.revoked_at is not None

    @property
    def can_write(self) -> bool:
        """True for tokens that may change things."""
        return self.scope is TokenScope.write
