"""The proof of consent written out as CSV or JSON, piece by piece, as the events stream in.

CSV has one row per status event and the evidence spelled out in columns; JSON has one object
per address holding its events oldest first, each with its evidence nested. Both are built
from the same event dictionaries (events.py), so they always say the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from ..reports.export import csv_lines, neutralise
from .events import ProofAddress

PIECE_CHARS = 64 * 1024  # text gathered before a piece is handed to the response

# (CSV column, where its value is in the address or the event dictionary).
ADDRESS_COLUMNS = (
    ("address_id", "address_id"),
    ("address", "address"),
    ("contact_id", "contact_id"),
    ("field", "field"),
    ("status_now", "status"),
)
EVENT_COLUMNS = (
    ("event_id", ("event_id",)),
    ("at_utc", ("at",)),
    ("from_status", ("from_status",)),
    ("to_status", ("to_status",)),
    ("actor", ("actor",)),
    ("actor_name", ("actor_name",)),
    ("channel", ("channel",)),
    ("client_ip", ("client_ip",)),
    ("user_agent", ("user_agent",)),
    ("cause", ("cause",)),
    ("cause_id", ("cause_id",)),
    ("recorded_as", ("recorded_as",)),
    ("note", ("note",)),
    ("import_file", ("import", "file")),
    ("import_permission_confirmed", ("import", "permission_confirmed")),
    ("import_permission_statement", ("import", "permission_statement")),
    ("import_answered_by", ("import", "answered_by")),
    ("import_answered_at", ("import", "answered_at")),
    ("request", ("request", "number")),
    ("request_kind", ("request", "kind")),
    ("request_filed_by", ("request", "filed_by")),
    ("request_filed_at", ("request", "filed_at")),
    ("request_reason", ("request", "evidence", "reason")),
    ("request_last_sent_on", ("request", "evidence", "last_sent_on")),
    ("request_explicit_permission", ("request", "evidence", "explicit_permission")),
    ("request_permission_details", ("request", "evidence", "permission_details")),
    ("request_form_links", ("request", "evidence", "form_links")),
    ("request_list_source", ("request", "evidence", "list_source")),
    ("request_attested", ("request", "evidence", "attested")),
    ("request_conversation", ("request", "conversation")),
    ("request_attachments", ("request", "attachments")),
    ("request_state", ("request", "state")),
    ("request_decided_by", ("request", "decided_by")),
    ("request_decided_at", ("request", "decided_at")),
    ("request_checklist", ("request", "checklist")),
    ("request_reject_reason", ("request", "reject_reason")),
    ("request_decision_message", ("request", "decision_message")),
    ("mass_action", ("mass_action", "id")),
    ("mass_action_kind", ("mass_action", "kind")),
    ("mass_action_selection", ("mass_action", "selection")),
    ("mass_action_by", ("mass_action", "by")),
    ("mass_action_at", ("mass_action", "at")),
    ("email_campaign", ("confirmation_email", "campaign_id")),
    ("email_written_at", ("confirmation_email", "written_at")),
    ("email_subject", ("confirmation_email", "subject")),
    ("email_text", ("confirmation_email", "text")),
    ("email_delivery", ("confirmation_email", "delivery")),
    ("email_sent_at", ("confirmation_email", "sent_at")),
)
HEADER = [name for name, _ in ADDRESS_COLUMNS] + [name for name, _ in EVENT_COLUMNS]


def cell_text(value) -> str:
    """A value as CSV text: lists one item per line, yes/no for answers, "" for nothing."""
    if value is None:
        return ""
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, list):
        return "\n".join(_list_item(item) for item in value)
    return str(value)


def safe_cell(value) -> str:
    """A value as the CSV cell it is written as: its text, and a cell a spreadsheet would run
    as a formula (CSV injection) made inert with a leading apostrophe."""
    return neutralise(cell_text(value))


def _list_item(item) -> str:
    if isinstance(item, dict):  # a question or answer, an attachment
        return " · ".join(str(v) for v in item.values() if v not in (None, ""))
    return str(item)


def _dig(event: dict, path: tuple[str, ...]):
    value = event
    for key in path:
        if value is None:
            return None
        value = value[key]
    return value


# The event's own columns, then each cause's: an import batch, request or mass action is the
# same dictionary for every event it caused, so its cells are worked out once per export.
_OWN = [path for _, path in EVENT_COLUMNS if len(path) == 1]
_SECTIONS = {}
for _, path in EVENT_COLUMNS:
    if len(path) > 1:
        _SECTIONS.setdefault(path[0], []).append(path[1:])
_SHARED = ("import", "request", "mass_action")


class _RowWriter:
    """CSV rows (not yet neutralised: csv_lines does that) with each cause's cells kept."""

    def __init__(self):
        self.shared: dict[int, list[str]] = {}
        self.blank = {name: [""] * len(paths) for name, paths in _SECTIONS.items()}

    def _section(self, name: str, part: dict | None) -> list[str]:
        if part is None:
            return self.blank[name]
        if name not in _SHARED:
            return [cell_text(_dig(part, path)) for path in _SECTIONS[name]]
        cells = self.shared.get(id(part))  # the causes' dictionaries live as long as the export
        if cells is None:
            cells = self.shared[id(part)] = [cell_text(_dig(part, p)) for p in _SECTIONS[name]]
        return cells

    def row(self, address: ProofAddress, event: dict) -> list[str]:
        """One row: the address's columns, the event's, then its causes'."""
        cells = [cell_text(getattr(address, attr)) for _, attr in ADDRESS_COLUMNS]
        cells += [cell_text(event[path[0]]) for path in _OWN]
        for name in _SECTIONS:
            cells += self._section(name, event[name])
        return cells


def csv_row(address: ProofAddress, event: dict) -> list[str]:
    """One CSV row as written: the address's columns, then the event's."""
    return [neutralise(cell) for cell in _RowWriter().row(address, event)]


def as_csv(events: Iterable[tuple[ProofAddress, dict]]) -> Iterator[str]:
    """The export as CSV text in pieces: a header row, then one row per event."""
    yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
    rows = _RowWriter()
    yield from csv_lines(HEADER, (rows.row(address, event) for address, event in events))


def as_json(events: Iterable[tuple[ProofAddress, dict]], about: dict) -> Iterator[str]:
    """The export as one JSON document in pieces: `about` (what was exported, when, by whom),
    then `addresses`, each with its `events` oldest first."""
    return _gathered(_json_pieces(events, about))


def _gathered(pieces: Iterable[str]) -> Iterator[str]:
    """The pieces joined into fewer, larger ones (one write each, not one per event)."""
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= PIECE_CHARS:
            yield "".join(buffer)
            buffer, size = [], 0
    yield "".join(buffer)


def _json_pieces(events: Iterable[tuple[ProofAddress, dict]], about: dict) -> Iterator[str]:
    head = json.dumps(about, ensure_ascii=False)[:-1]
    yield head + (", " if about else "") + '"addresses": ['
    current: ProofAddress | None = None
    for address, event in events:
        if current is None or address.address_id != current.address_id:
            if current is not None:
                yield "]},\n"
            current = address
            head = json.dumps(vars(address), ensure_ascii=False)[:-1]
            yield head + ', "events": ['
        else:
            yield ", "
        yield json.dumps(event, ensure_ascii=False)
    yield ("]}" if current is not None else "") + "]}\n"
