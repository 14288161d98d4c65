"""Fair assignment (issue 15): the manager's switch and cap, and each agent's shift.

Nothing stored means automatic assignment is off, every agent is available and works the
team's hours (see `requests_queue.shifts`).
"""

from __future__ import annotations

from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..now import now_utc
from .base import Base, UTCDateTime

DEFAULT_MAX_OPEN = 10


class AssignmentSettings(Base):
    """The one row of assignment settings (id is always 1); absent until a manager saves.

    Round robin locks this row, so two requests assigned at once are chosen one after the other.
    """

    __tablename__ = "assignment_settings"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("max_open_per_agent BETWEEN 1 AND 1000", name="max_open_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    is_enabled: Mapped[bool] = mapped_column(default=False)
    max_open_per_agent: Mapped[int] = mapped_column(default=DEFAULT_MAX_OPEN)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class AgentShift(Base):
    """One support user's availability, whether they keep their own hours, and their turn.

    Absent: available, working the team's hours, never assigned automatically.
    """

    __tablename__ = "agent_shifts"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    is_away: Mapped[bool] = mapped_column(default=False)
    # False: the team calendar's hours; True: the agent_hours rows (none: no working day).
    has_own_hours: Mapped[bool] = mapped_column(default=False)
    # Round robin's turn: the agent with the lowest (0: never assigned) is next. A counter,
    # not a time, so requests assigned in the same instant still take turns.
    last_turn: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class AgentHours(Base):
    """One weekday's working window of an agent with their own hours (team time zone)."""

    __tablename__ = "agent_hours"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        sa.CheckConstraint("opens < closes", name="opens_before_closes"),
    )

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agent_shifts.user_id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    opens: Mapped[time] = mapped_column(sa.Time)
    closes: Mapped[time] = mapped_column(sa.Time)
