"""Turning a file's records into stage rows: the per-row checks, written for speed.

This loop runs once per row of a million-row file. The common row (short names, plain
distinct addresses) takes the fast path; any other row is checked again by `_check_row`,
which also finds the reason to show when the row is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter

from ..models import SkipReason
from .addresses import MAX_ADDRESS, PLAIN_ADDRESS, check_import_address, is_plain_valid
from .mapping import EMAIL_TARGETS, MAX_LENGTH, Target
from .reading import RowReader
from .staging import ChunkData

_PLAIN_MATCH = PLAIN_ADDRESS.fullmatch


@dataclass(frozen=True)
class RowPlan:
    """Where each target's cells are, from the batch's mapping.

    A row is padded to `width` plus one always-empty cell, so an unmapped target reads
    that empty cell and one `itemgetter` call fetches all eight targets' cells at C speed.
    """

    width: int
    get: Callable[[list[str]], tuple]
    fields: tuple[int, ...]  # 1, 2, 3 for the email fields that are mapped
    titles: tuple[str, ...]

    @classmethod
    def of(cls, mapping: dict[int, Target], width: int) -> RowPlan:
        width = max([width, *(i + 1 for i in mapping)])
        at = {t: i for i, t in mapping.items()}
        order = [*_NAMED, Target.tags, *EMAIL_TARGETS]
        get = itemgetter(*(at.get(t, width) for t in order))
        fields = tuple(k for k, t in enumerate(EMAIL_TARGETS, 1) if t in at)
        titles = tuple(EMAIL_TARGETS[k - 1].title for k in fields)
        return cls(width, get, fields, titles)


_NAMED = (Target.first_name, Target.last_name, Target.company, Target.phone)
_LIMITS = tuple(MAX_LENGTH[t] for t in _NAMED)


def _split_tags(cell: str) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in cell.replace(";", ",").split(",") if t.strip()))


def _check_row(
    names: tuple[str, ...], tag_names: list[str], raw: tuple[str, ...], plan: RowPlan
) -> tuple[SkipReason, str] | list[str | None]:
    """The row's problem, or its addresses per mapped field (None where empty or repeated)."""
    for target, value, limit in zip(_NAMED, names, _LIMITS, strict=True):
        if len(value) > limit:
            return SkipReason.too_long, f"{target.title} has more than {limit} characters"
    addresses: list[str | None] = []
    for cell, title in zip(raw, plan.titles, strict=True):
        address = cell.strip().lower()
        if not address or address in addresses:
            addresses.append(None)
            continue
        if len(address) > MAX_ADDRESS:
            return SkipReason.too_long, f"{title} has more than {MAX_ADDRESS} characters"
        if not is_plain_valid(address):
            address, why = check_import_address(address)
            if why:
                return SkipReason.invalid_address, f"{title}: {why}"
        addresses.append(address)
    if not any(addresses):
        return SkipReason.no_address, "no email address in this row"
    if any(len(t) > MAX_LENGTH[Target.tags] for t in tag_names):
        return SkipReason.too_long, f"a tag has more than {MAX_LENGTH[Target.tags]} characters"
    return addresses


def parse_chunk(
    reader: RowReader, plan: RowPlan, limit: int
) -> tuple[ChunkData, list[tuple], dict[int, list[str]], int]:
    """Read up to `limit` rows: staged data, Python-side skips, cells by line, rows read.

    Skips decided here: too long, no address, invalid address, and an address repeated
    from an earlier row of the same chunk (earlier chunks are matched in SQL).
    """
    rows, tags, skipped = [], [], []
    cells_by_line: dict[int, list[str]] = {}
    seen: dict[str, int] = {}
    width, get, fields = plan.width, plan.get, plan.fields
    pad, one = [""] * (width + 1), [""]
    plain = _PLAIN_MATCH
    csv_reader = reader.csv
    end = reader.line
    count = 0
    for cells in csv_reader:
        line, end = end + 1, csv_reader.line_num
        n = len(cells)
        if n == 0:
            continue
        first, last, company, phone, tag_cell, e1, e2, e3 = get(
            cells + one if n == width else (cells + pad)[: width + 1]
        )
        a1 = e1.strip().lower() if e1 else ""
        a2 = e2.strip().lower() if e2 else ""
        a3 = e3.strip().lower() if e3 else ""
        if not (a1 or a2 or a3) and not any(c.strip() for c in cells):
            continue  # a blank record (only delimiters, as spreadsheets write): not a row
        count += 1
        first, last, company, phone = first.strip(), last.strip(), company.strip(), phone.strip()
        tag_names = _split_tags(tag_cell) if tag_cell else []
        if (
            len(first) <= 100
            and len(last) <= 100
            and len(company) <= 200
            and len(phone) <= 50
            and (a1 or a2 or a3)
            and (not a1 or (len(a1) <= 64 and plain(a1)))
            and (not a2 or (len(a2) <= 64 and plain(a2)))
            and (not a3 or (len(a3) <= 64 and plain(a3)))
            and (not a1 or (a1 != a2 and a1 != a3))
            and (not a2 or a2 != a3)
            and not tag_names
        ):
            by_field = [a1 or None, a2 or None, a3 or None]
        else:
            raw = tuple((e1, e2, e3)[k - 1] for k in fields)
            checked = _check_row((first, last, company, phone), tag_names, raw, plan)
            if isinstance(checked, tuple):
                skipped.append((line, *checked, cells))
                if count == limit:
                    break
                continue
            by_field = [None, None, None]
            for k, address in zip(fields, checked, strict=True):
                by_field[k - 1] = address
        earlier = next((seen[a] for a in by_field if a and a in seen), None)
        if earlier is not None:
            skipped.append((line, SkipReason.duplicate, f"same address as line {earlier}", cells))
        else:
            for a in by_field:
                if a:
                    seen[a] = line
            rows.append((line, first, last, first.lower(), last.lower(), company, phone, *by_field))
            if tag_names:
                tags.extend((line, t) for t in tag_names)
            cells_by_line[line] = cells
        if count == limit:
            break
    reader.line = end
    return ChunkData(rows, tags), skipped, cells_by_line, count
