"""The one pagination of list pages: the page the query string asks for, out of a count."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .ids import page_number

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    """One page of `total` rows, `size` at a time; `number` counts from 1. With `more`, the
    count stopped at `total` and more rows follow: `total` and `pages` are lower bounds."""

    number: int
    total: int
    size: int = PAGE_SIZE
    more: bool = False

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        """How many pages the rows fill (one, even when there are none)."""
        return max(1, -(-self.total // self.size))


def counted_page(count: Callable[[int], int], cap: int, size: int = PAGE_SIZE) -> Page:
    """The page the query string names, counting only as far as showing it needs (issue 11:
    a million rows need not all be counted to show the first fifty). `count(limit)` counts
    at most `limit` rows; it is asked for up to `cap` rows, or to the end of the asked page
    when that lies further, plus one to know whether more follow."""
    number = page_number()
    limit = max(cap, number * size)
    found = count(limit + 1)
    return Page(number, min(found, limit), size, more=found > limit)


def requested_page(total: int, size: int = PAGE_SIZE) -> Page:
    """The page of `total` rows that the query string's `page` names (page 1 if it names none)."""
    return Page(page_number(), total, size)
