"""Enums whose members carry a display title, stored by value."""

import enum


class TitledEnum(str, enum.Enum):
    """A str enum whose members carry a display title: `member = ("value", "Title")`."""

    def __new__(cls, value: str, title: str):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.title = title
        return obj

    def __str__(self) -> str:
        return self.value
