"""The support team's calendar as a manager set it: zone, weekly hours, country, holiday edits.

Nothing stored means the defaults of `BusinessCalendar` (see `calendar_store.load_calendar`).
"""

from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..now import now_utc
from .base import Base, TitledEnum, UTCDateTime, enum_column


class CalendarSettings(Base):
    """The one row of team-wide settings (id is always 1); absent until a manager saves."""

    __tablename__ = "calendar_settings"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="America/Phoenix")
    country: Mapped[str] = mapped_column(sa.String(8), default="US")
    subdivision: Mapped[str | None] = mapped_column(sa.String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class CalendarHours(Base):
    """The working window of one weekday (0 = Monday); a weekday without a row is closed.

    Read only when `CalendarSettings` exists, so saving the settings always saves all seven days.
    """

    __tablename__ = "calendar_hours"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        sa.CheckConstraint("opens < closes", name="opens_before_closes"),
    )

    weekday: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    opens: Mapped[time] = mapped_column(sa.Time)
    closes: Mapped[time] = mapped_column(sa.Time)


class HolidayChange(TitledEnum):
    """How a manager changed one day against the country's public holidays."""

    added = ("added", "Closed (company holiday)")
    removed = ("removed", "Open (public holiday worked)")


class CalendarHoliday(Base):
    """A day a manager closed (added holiday) or opened (public holiday worked), with a note."""

    __tablename__ = "calendar_holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, unique=True)
    change: Mapped[HolidayChange] = mapped_column(enum_column(HolidayChange, "holiday_change"))
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
