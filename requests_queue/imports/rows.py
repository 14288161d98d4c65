"""Turning a file's records into stage rows, a column at a time, written for speed.

A million-row file leaves no room for Python work per row. A chunk is read whole, its mapped
columns are cut out and cleaned with bulk operations that run in C (`map`, `zip`, one regular
expression over a whole column of addresses), and only the rows a bulk check flags (a cell too
long, an address the fast path cannot accept, no address, a repeated address, a tag) go through
`_check_row`, the row-at-a-time rules, which also find the reason to show for a skipped row.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, combinations, compress, islice, repeat
from operator import attrgetter, eq, itemgetter, ne, not_

from ..models import SkipReason
from .addresses import MAX_ADDRESS, check_import_address, is_plain_valid, undecided
from .mapping import EMAIL_TARGETS, MAX_LENGTH, Target
from .reading import MAX_LINE_CHARS, RowReader

_NAMED = (Target.first_name, Target.last_name, Target.company, Target.phone)
_LIMITS = tuple(MAX_LENGTH[t] for t in _NAMED)
# Where each target's cleaned values go in the stage (see staging.STAGE).
STAGE_COLUMNS = {
    Target.first_name: "first_name",
    Target.last_name: "last_name",
    Target.company: "company",
    Target.phone: "phone",
    Target.email: "e1",
    Target.email2: "e2",
    Target.email3: "e3",
}
# The file's own spelling of each address, where it differs from the canonical form.
TYPED_COLUMNS = {Target.email: "t1", Target.email2: "t2", Target.email3: "t3"}
_KEYS = {Target.first_name: "first_key", Target.last_name: "last_key"}
_LINE_NUM = attrgetter("line_num")
_NEXT_LINE = (1).__add__
_RECORD = itemgetter(0)
# A chunk ends at its row limit or earlier, once it holds CHUNK_CELLS cells or CHUNK_BYTES of
# the file. Its memory follows its cells, not its rows: about 240 bytes a cell once parsed,
# cleaned, staged and kept for the skipped rows' report, and two chunks are held while one is
# written and the next parsed. At 50,000 rows a chunk, a file of eight columns took a run to
# 315 MB (four columns: 214 MB); issue 11 allows a background run 200 MB at any size.
CHUNK_CELLS = 100_000
CHUNK_BYTES = 8 * 1024 * 1024  # for long cells, where the text itself is the weight
_SLICE, _FIRST_SLICE = 1_000, 100  # records read between two looks at the budget, at most


@dataclass(frozen=True)
class RowPlan:
    """Which cells of a row hold which target, from the batch's mapping."""

    targets: tuple[Target, ...]  # the mapped ones, names first, then emails, then tags
    get: Callable[[list[str]], object]
    need: int  # cells a row must have for `get`: the last mapped column + 1
    fields: tuple[int, ...]  # 1, 2, 3 for the email fields that are mapped
    titles: tuple[str, ...]

    @classmethod
    def of(cls, mapping: dict[int, Target]) -> RowPlan:
        at = {t: i for i, t in mapping.items() if t is not Target.ignore}
        targets = tuple(t for t in (*_NAMED, *EMAIL_TARGETS, Target.tags) if t in at)
        fields = tuple(k for k, t in enumerate(EMAIL_TARGETS, 1) if t in at)
        titles = tuple(EMAIL_TARGETS[k - 1].title for k in fields)
        get = itemgetter(*(at[t] for t in targets))
        return cls(targets, get, max(at.values()) + 1, fields, titles)

    def columns(self, records: list[list[str]]) -> list[tuple[str, ...]]:
        """The mapped cells of every record, one tuple per target (records are long enough)."""
        if len(self.targets) == 1:  # itemgetter of one index returns the cell, not a tuple
            return [tuple(map(self.get, records))]
        return list(zip(*map(self.get, records), strict=True))


@dataclass
class Chunk:
    """Up to `limit` rows of the file, parsed: what goes to the stage and what was skipped.

    Kept row i (0-based) is stage position i + 1; `lines` and `cells` say where it came from,
    for the rows SQL skips later.
    """

    columns: dict[str, list[str]]  # stage column -> one value per kept row ("" when empty)
    lines: list[int]
    cells: list[list[str]]
    tags: list[tuple[int, str]]  # (stage position, tag name)
    skipped: list[tuple[int, SkipReason, str, list[str]]]  # (line, reason, detail, cells)
    count: int  # rows read: blank records are not rows
    end_line: int = 0  # the last line read, and how many bytes of the file, for progress
    bytes_read: int = 0

    @property
    def size(self) -> int:
        """How many rows go to the stage."""
        return len(self.lines)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a chunk is built.

    A chunk allocates some 10^5 lists and tuples that cannot form cycles, and every automatic
    collection on the way would walk them again: a quarter of the parse time, measured.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
        if not address:
            addresses.append(None)
            continue
        if len(address) > MAX_ADDRESS:
            return SkipReason.too_long, f"{title} has more than {MAX_ADDRESS} characters"
        if not is_plain_valid(address):
            address, why = check_import_address(address)
            if why:
                return SkipReason.invalid_address, f"{title}: {why}"
        # A repeat is judged in the canonical form: `Bücher` and `bücher` twice are one mailbox.
        addresses.append(None if address in addresses else address)
    if not any(addresses):
        return SkipReason.no_address, "no email address in this row"
    if any(len(t) > MAX_LENGTH[Target.tags] for t in tag_names):
        return SkipReason.too_long, f"a tag has more than {MAX_LENGTH[Target.tags]} characters"
    return addresses


def _read(
    reader: RowReader, limit: int
) -> tuple[list[list[str]], list[int], dict[int, int]] | None:
    """Up to `limit` records (fewer once they hold CHUNK_CELLS cells or CHUNK_BYTES of the
    file), the line each starts on, and the records holding a line too long to read (index ->
    that line); empty lines left out; None at the end."""
    csv_reader = reader.csv
    # zip asks the reader for a record, then reads its line_num: the line the record ends on.
    lines_read = map(_LINE_NUM, repeat(csv_reader))
    records_read = zip(csv_reader, lines_read, strict=False)
    pairs: list[tuple[list[str], int]] = []
    cells, start, size = 0, reader.bytes_read, _FIRST_SLICE
    while len(pairs) < limit:
        part = list(islice(records_read, min(size, limit - len(pairs))))
        if not part:
            break
        pairs += part
        cells += sum(map(len, map(_RECORD, part)))
        taken = reader.bytes_read - start
        if cells >= CHUNK_CELLS or taken >= CHUNK_BYTES:
            break
        # The next slice: at most an eighth of either budget, at this file's weight a row.
        rows = len(pairs)
        size = min(
            _SLICE, CHUNK_CELLS * rows // (8 * cells or 1), CHUNK_BYTES * rows // (8 * taken or 1)
        )
        size = max(size, 1)
    if not pairs:
        return None
    records, ends = (list(x) for x in zip(*pairs, strict=True))
    lines = [reader.line + 1, *map(_NEXT_LINE, ends[:-1])]
    reader.line = ends[-1]
    cut = _cut(lines, reader.cut_lines) if reader.cut_lines else {}
    if [] in records:  # an empty line is a record without cells
        keep = list(map(bool, records))
        for i in cut:  # a line too long to read came as an empty one: still a row to report
            keep[i] = True
        records, lines = list(compress(records, keep)), list(compress(lines, keep))
        cut = {keep[:i].count(True): line for i, line in cut.items()}
    return records, lines, cut


def _cut(lines: list[int], cut_lines: list[int]) -> dict[int, int]:
    """Which record (by index) each line too long to read belongs to; the reader's list is
    emptied, as these are now reported."""
    cut: dict[int, int] = {}
    for line in cut_lines:
        cut.setdefault(bisect_right(lines, line) - 1, line)
    cut_lines.clear()
    return cut


def _flag_rows(plan: RowPlan, values: dict[Target, list[str]], n: int) -> set[int]:
    """Rows a bulk check finds that the row-at-a-time rules must look at."""
    flagged: set[int] = set()
    for target, limit in zip(_NAMED, _LIMITS, strict=True):
        col = values.get(target)
        if col and max(map(len, col)) > limit:
            flagged.update(i for i, v in enumerate(col) if len(v) > limit)
    emails = [values[t] for t in EMAIL_TARGETS if t in values]
    for col in emails:
        flagged.update(undecided(col))
    if "" in emails[0]:  # rows with no address at all
        empty = compress(range(n), map(not_, emails[0]))
        flagged.update(i for i in empty if not any(col[i] for col in emails[1:]))
    for a, b in combinations(emails, 2):  # one address in two fields of a row
        flagged.update(i for i in compress(range(n), map(eq, a, b)) if a[i])
    return flagged


def _duplicates(emails: list[list[str]], lines: list[int], n: int) -> dict[int, str]:
    """Rows repeating an address of an earlier row of the chunk -> the detail to show."""
    present = list(filter(None, chain.from_iterable(emails)))
    if len(set(present)) == len(present):
        return {}
    repeated = {a for a, k in Counter(present).items() if k > 1}
    has = repeated.__contains__
    rows = sorted({i for col in emails for i in compress(range(n), map(has, col))})
    seen: dict[str, int] = {}
    out = {}
    for i in rows:
        mine = [col[i] for col in emails if col[i]]
        earlier = next((seen[a] for a in mine if a in seen), None)
        if earlier is not None:
            out[i] = f"same address as line {lines[earlier]}"
        else:
            seen.update(dict.fromkeys(mine, i))
    return out


def parse_chunk(reader: RowReader, plan: RowPlan, limit: int) -> Chunk | None:
    """Read up to `limit` records into a Chunk (fewer for a wide file: see CHUNK_CELLS); None
    at the end of the file.

    Skips decided here: too long, no address, invalid address, and an address repeated from
    an earlier row of the same chunk (earlier chunks are matched in SQL).
    """
    with _collector_paused():
        read = _read(reader, limit)
        if read is None:
            return None
        records, lines, cut = read
        n = len(records)
        if n and min(map(len, records)) < plan.need:
            padded = [r + [""] * (plan.need - len(r)) if len(r) < plan.need else r for r in records]
        else:
            padded = records
        raw = dict(zip(plan.targets, plan.columns(padded), strict=True)) if n else {}
        values: dict[Target, list[str]] = {}
        spelled: dict[Target, list[str]] = {}
        for target, col in raw.items():
            if target in EMAIL_TARGETS:
                # Lower-case is the canonical form of a plain ASCII address; the rest are
                # made canonical by the row-at-a-time check (`check_import_address`).
                spelled[target] = list(map(str.strip, col))
                values[target] = list(map(str.lower, spelled[target]))
            elif target is not Target.tags:
                values[target] = list(map(str.strip, col))
        emails = [values[t] for t in EMAIL_TARGETS if t in values]
        tag_names = {}
        if Target.tags in raw:
            cells = raw[Target.tags]
            tag_names = {i: _split_tags(cells[i]) for i in compress(range(n), cells)}
        skips: dict[int, tuple[SkipReason, str]] = {}
        blank: list[int] = []
        flagged = _flag_rows(plan, values, n) if n else set()
        flagged.update(i for i, t in tag_names.items() if t)
        flagged.difference_update(cut)  # never read: nothing in them to check
        for i in sorted(flagged):
            names = tuple(values[t][i] if t in values else "" for t in _NAMED)
            checked = _check_row(names, tag_names.get(i, []), tuple(c[i] for c in emails), plan)
            if isinstance(checked, tuple):
                if checked[0] is SkipReason.no_address and not any(map(str.strip, records[i])):
                    blank.append(i)  # only delimiters, as spreadsheets write: not a row
                else:
                    skips[i] = checked
                for col in emails:  # a skipped row's addresses repeat nothing
                    col[i] = ""
            else:
                for col, address in zip(emails, checked, strict=True):
                    col[i] = address or ""
        for i, line in cut.items():
            detail = f"line {line:,} has more than {MAX_LINE_CHARS:,} characters"
            skips[i] = (SkipReason.too_long, detail)
        for i, detail in _duplicates(emails, lines, n).items():
            skips[i] = (SkipReason.duplicate, detail)
        typed = {t: _typed(spelled[t], values[t]) for t in spelled}
        chunk = _chunk(values, typed, records, lines, tag_names, skips, blank)
    chunk.end_line, chunk.bytes_read = reader.line, reader.bytes_read
    return chunk


def _typed(spelled: list[str], canonical: list[str]) -> list[str]:
    """Each row's spelling to keep: "" where it is the canonical form (nearly every row)."""
    out = [""] * len(spelled)
    if spelled != canonical:  # one C-level comparison decides for the common all-same file
        for i in compress(range(len(spelled)), map(ne, spelled, canonical)):
            out[i] = spelled[i] if canonical[i] else ""
    return out


def _chunk(values, typed, records, lines, tag_names, skips, blank) -> Chunk:
    """The kept rows as stage columns, and the skipped ones with their lines and cells."""
    skipped = [(lines[i], *why, records[i]) for i, why in sorted(skips.items())]
    dropped = sorted([*skips, *blank])
    kept = records
    if dropped:
        keep = [True] * len(records)
        for i in dropped:
            keep[i] = False
        values = {t: list(compress(v, keep)) for t, v in values.items()}
        typed = {t: list(compress(v, keep)) for t, v in typed.items()}
        kept, lines = list(compress(records, keep)), list(compress(lines, keep))
    columns = {STAGE_COLUMNS[t]: v for t, v in values.items()}
    columns.update((TYPED_COLUMNS[t], v) for t, v in typed.items())
    for target, key in _KEYS.items():
        names = values.get(target)
        # SQL lower-cases ASCII exactly as Python does; other names get their key from here.
        if names and not "".join(names).isascii():
            columns[key] = list(map(str.lower, names))
    tags = [
        (i - bisect_left(dropped, i) + 1, name)
        for i, names in tag_names.items()
        if i not in skips
        for name in names
    ]
    return Chunk(columns, lines, kept, tags, skipped, len(records) - len(blank))
