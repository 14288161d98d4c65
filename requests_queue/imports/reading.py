"""Reading the files people export: encodings, delimiters, the header, and rows as a stream.

The file is never loaded whole. Detection reads it once in blocks (is it UTF-8 throughout, or
Windows-1252?), then `RowReader` streams records with the line each one starts on. Nothing is
read unbounded: a line longer than MAX_LINE_CHARS is passed over in pieces and reported, so a
small file cannot make the reader, the mapping page or the import hold a huge row.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import ValidationError
from .addresses import is_plain_valid
from .mapping import EMAIL_TARGETS, Target, guess_mapping

BLOCK = 1 << 20
SAMPLE_CHARS = 64 * 1024
SAMPLE_ROWS = 5
DELIMITERS = (",", ";", "\t")
# The widest real exports (Salesforce or HubSpot with custom fields) have about 150 columns. Every
# column is a select on the mapping page and a cell of every parsed row: a 250 KB file of 30,000
# columns made that page 20 MB and took 17 s. Wider than this is not a contact list: refused.
MAX_COLUMNS = 200
# A row of contact details (three addresses, names, company, phone, tags, a note) is a few
# hundred characters; 64 KiB per physical line (its line break included) leaves room for long
# notes and bounds what one line costs. A longer line is refused when it is among the lines
# read at upload (the header and the sample rows) and skipped, with the reason, by the import.
MAX_LINE_CHARS = 64 * 1024
# A quoted cell may span lines (a note with line breaks); past this it is an unclosed quote
# swallowing the rest of the file. Above SAMPLE_CHARS, so detection never reaches it.
MAX_FIELD_CHARS = 2 * MAX_LINE_CHARS
csv.field_size_limit(MAX_FIELD_CHARS)
# The mapping page shows the first values of each column, cut to this (it shows ~24 of them).
SAMPLE_CELL_CHARS = 100

_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
ENCODING_TITLES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252",
}
DELIMITER_TITLES = {",": "comma", ";": "semicolon", "\t": "tab"}


class FileRefused(ValidationError):
    """The file cannot be imported at all; `kind` says why (empty, not_text, no_header, ...)."""

    def __init__(self, kind: str, reason: str):
        super().__init__("file", reason)
        self.kind = kind


@dataclass
class FileFormat:
    """What detection found: how to decode and split the file, its header and first rows."""

    encoding: str
    delimiter: str
    header: list[str]
    sample: list[list[str]] = field(default_factory=list)
    size: int = 0
    mapping: dict[int, Target] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """A human summary, e.g. "UTF-8, semicolon-separated"."""
        enc = ENCODING_TITLES.get(self.encoding, self.encoding)
        return f"{enc}, {DELIMITER_TITLES.get(self.delimiter, self.delimiter)}-separated"


def _decodes(path: Path, encoding: str) -> bool:
    """True when the whole file decodes strictly in `encoding` (read in blocks)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    with path.open("rb") as f:
        try:
            while block := f.read(BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


NOT_TEXT = (
    "This is not a text file. Export your contacts as CSV (comma- or semicolon-separated) "
    "or as tab-separated text and upload that file."
)


def detect_encoding(path: Path) -> str:
    """The file's encoding: a BOM decides, else UTF-8 if it all decodes, else Windows-1252."""
    with path.open("rb") as f:
        head = f.read(SAMPLE_CHARS)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            if not head[len(bom) :].strip():
                raise FileRefused("empty", "The file is empty.")
            if not _decodes(path, encoding):
                raise FileRefused("not_text", NOT_TEXT)
            return encoding
    if not head.strip():
        raise FileRefused("empty", "The file is empty.")
    if b"\x00" in head:  # spreadsheets, archives, images; UTF-16 without a BOM is not supported
        raise FileRefused("not_text", NOT_TEXT)
    for encoding in ("utf-8", "cp1252"):
        if _decodes(path, encoding):
            return encoding
    raise FileRefused("not_text", NOT_TEXT)


def _text_sample(path: Path, encoding: str) -> str:
    with path.open("r", encoding=encoding, newline="") as f:
        return f.read(SAMPLE_CHARS)


def _is_blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def _records(text: str, delimiter: str, complete: bool) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not complete and len(rows) > 1:
        rows.pop()  # the sample may end inside the last record
    return [r for r in rows if not _is_blank(r)]


def detect_delimiter(text: str, complete: bool = True) -> str:
    """Comma, semicolon or tab: the one that splits the header widest and the rows alike."""
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        rows = _records(text, delimiter, complete)[:50]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        alike = sum(len(r) == width for r in rows) / len(rows)
        score = (alike, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _control_ratio(text: str) -> float:
    controls = sum(1 for c in text if c < " " and c not in "\t\r\n\f")
    return controls / max(1, len(text))


def inspect_file(path: Path) -> FileFormat:
    """Detect encoding, delimiter, header and first rows; raise FileRefused for unusable files."""
    size = path.stat().st_size
    if size == 0:
        raise FileRefused("empty", "The file is empty.")
    encoding = detect_encoding(path)
    text = _text_sample(path, encoding)
    if _control_ratio(text) > 0.01:
        raise FileRefused("not_text", NOT_TEXT)
    delimiter = detect_delimiter(text, complete=len(text) < SAMPLE_CHARS)
    _refuse_wide(text, delimiter)
    reader = RowReader(path, encoding, delimiter)
    try:
        header, sample = _head(reader)
    except csv.Error as exc:
        raise FileRefused("unreadable", f"Line {reader.line + 1} cannot be read ({exc}).") from None
    finally:
        reader.close()
    mapping = guess_mapping(header, sample)
    if not any(t in EMAIL_TARGETS for t in mapping.values()):
        raise FileRefused(
            "no_email_column",
            "No column holds email addresses. The file needs a column such as "
            '"Email" or "Email Address" with one address per row.',
        )
    # What the mapping page shows: the header's columns, each value cut short.
    sample = [[cell[:SAMPLE_CELL_CHARS] for cell in row[: len(header)]] for row in sample]
    return FileFormat(encoding, delimiter, header, sample, size, mapping)


def _refuse_wide(text: str, delimiter: str) -> None:
    """Refuse a header of more than MAX_COLUMNS columns, counted in the sample's first record."""
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    width = len(next(records, []))
    if width <= MAX_COLUMNS:
        return
    # The first record is whole if a second one starts within the sample.
    whole = len(text) < SAMPLE_CHARS or next(records, None) is not None
    raise FileRefused(
        "too_many_columns",
        f"The first row names {'' if whole else 'at least '}{width:,} columns; "
        f"at most {MAX_COLUMNS} can be imported. "
        "Keep the columns you need (email addresses, names, company, phone, tags), "
        "remove the others and upload the file again.",
    )


def _refuse_long_lines(reader: RowReader) -> None:
    """Refuse the file if a line read so far was longer than MAX_LINE_CHARS."""
    if reader.cut_lines:
        line = reader.cut_lines[0]
        which = "The first row" if line == 1 else f"Line {line:,}"
        raise FileRefused(
            "line_too_long",
            f"{which} has more than {MAX_LINE_CHARS:,} characters; a row of contact details "
            "is never that long. Check that this is the contacts file exported from your "
            "previous email system (CSV or tab-separated text) and upload it again.",
        )


def _head(reader: RowReader) -> tuple[list[str], list[list[str]]]:
    """The header and the first rows, refusing a file without either."""
    header = next((cells for _, cells in reader), None)
    _refuse_long_lines(reader)
    if header is None:
        raise FileRefused("empty", "The file is empty.")
    header = [h.strip() for h in header]
    if any("@" in h and is_plain_valid(h.lower()) for h in header):
        raise FileRefused(
            "no_header",
            "The first row holds email addresses, not column names. Add a first row that "
            "names the columns (for example Email, First Name, Last Name) and upload again.",
        )
    if not any(header):
        raise FileRefused("no_header", "The first row is blank: it must name the columns.")
    sample = []
    for _, cells in reader:
        sample.append(cells)
        if len(sample) == SAMPLE_ROWS:
            break
    _refuse_long_lines(reader)
    if not sample:
        raise FileRefused("empty", "The file has column names but no rows to import.")
    return header, sample


class RowReader:
    """Records of a delimited text file, streamed, each with the line it starts on.

    Blank records are passed over. `bytes_read` is how far into the file reading has got
    (ahead of the last record by at most one buffer), which is what the progress bar shows.
    A physical line longer than MAX_LINE_CHARS is never held: it reaches the csv reader as an
    empty line (so line numbers stay true) and its number is added to `cut_lines`.
    """

    def __init__(self, source: Path | BinaryIO, encoding: str, delimiter: str):
        # A path, or a binary file the reader takes over (a stored blob: requests_queue/blobs);
        # closed by close() / __exit__.
        self._raw = source if hasattr(source, "read") else Path(source).open("rb")  # noqa: SIM115
        self._text = io.TextIOWrapper(self._raw, encoding=encoding, newline="")
        self.cut_lines: list[int] = []  # lines too long to read, not yet reported
        self._reader = csv.reader(self._lines(), delimiter=delimiter)
        self.line = 0  # the last physical line consumed

    def _lines(self) -> Iterator[str]:
        """The file's physical lines, each read with a bounded `readline`."""
        readline, limit = self._text.readline, MAX_LINE_CHARS
        number, split_crlf = 0, False
        while line := readline(limit + 1):
            if split_crlf:  # the "\n" of a cut line's "\r\n", returned on its own
                split_crlf = False
                if line == "\n":
                    continue
            number += 1
            if len(line) > limit:
                while line[-1] not in "\r\n" and (line := readline(limit)):
                    pass  # pass over the rest of the line, a bounded piece at a time
                split_crlf = line.endswith("\r")
                self.cut_lines.append(number)
                line = "\n"
            yield line

    @property
    def csv(self):
        """The underlying csv reader, for a loop that tracks `line` itself (see parse_chunk)."""
        return self._reader

    @property
    def bytes_read(self) -> int:
        """Bytes of the file read so far."""
        return self._raw.tell()

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        reader = self._reader
        for cells in reader:
            start = self.line + 1
            self.line = reader.line_num
            # Blank records (empty lines, or only delimiters as spreadsheets write) are noise.
            if cells and (cells[0].strip() or any(c.strip() for c in cells)):
                yield start, cells

    def skip_to(self, line: int) -> None:
        """Pass over records until the one that ends on `line` has been consumed.

        Long lines among them were dealt with when they were first read: not reported again.
        """
        reader = self._reader
        while self.line < line:
            if next(reader, None) is None:
                break
            self.line = reader.line_num
        self.cut_lines.clear()

    def close(self) -> None:
        """Close the file."""
        self._text.close()

    def __enter__(self) -> RowReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
