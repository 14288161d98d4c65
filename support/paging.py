"""The one pagination of list pages: the page the query string asks for, out of a count."""

from __future__ import annotations

from dataclasses import dataclass

from .ids import page_number

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    """One page of `total` rows, `size` at a time; `number` counts from 1."""

    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        """How many pages the rows fill (one, even when there are none)."""
        return max(1, -(-self.total // self.size))


def requested_page(total: int, size: int = PAGE_SIZE) -> Page:
    """The page of `total` rows that the query string's `page` names (page 1 if it names none)."""
    return Page(page_number(), total, size)
