"""Proof of consent (GDPR Art. 7(1)): who, when, how, what they were told, and any withdrawal.

For one address or a selection (the contact list's filter, a mass action's addresses), every
status event with its evidence: the import batch and its permission answer, the request with
its evidence, conversation, agent and decision, the recipient's click with its IP address,
browser and the confirmation email's text, and the withdrawal with its channel. Streamed
(events.py) and written as CSV or JSON (formats.py); no Flask here.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..mass_actions import prior_statuses
from ..models import EmailAddress, EmailField, User
from ..selection import ContactFilter, address_conditions
from .events import CHUNK, ProofAddress, iso, proof_events, request_attachments
from .formats import HEADER, as_csv, as_json, safe_cell

__all__ = [
    "CHUNK",
    "about_export",
    "HEADER",
    "ProofAddress",
    "address_selection",
    "as_csv",
    "as_json",
    "filter_selection",
    "iso",
    "mass_action_selection",
    "proof_events",
    "request_attachments",
    "safe_cell",
]


def address_selection(account_id: int, address_id: int) -> sa.Select:
    """SELECT of one address's id, if it is the account's."""
    return sa.select(EmailAddress.id).where(
        EmailAddress.id == address_id, EmailAddress.account_id == account_id
    )


def filter_selection(flt: ContactFilter, fields: tuple[EmailField, ...] = tuple(EmailField)):
    """SELECT of the ids of the chosen fields' addresses of the filter's contacts; with a
    status filter, only the addresses that have that status (what the list shows it for)."""
    conds = address_conditions(flt, fields)
    if flt.status is not None:
        conds.append(EmailAddress.status == flt.status)
    return sa.select(EmailAddress.id).where(*conds)


def mass_action_selection(mass_action_id: int) -> sa.Select:
    """SELECT of the ids of the addresses a mass action changed."""
    snapshot = prior_statuses(mass_action_id)
    return snapshot.with_only_columns(snapshot.selected_columns.address_id)


def about_export(user: User, selection: str, now: datetime) -> dict:
    """What the JSON document says before the addresses: what it answers, whose account, which
    selection, when and by whom it was exported."""
    return {
        "proof_of_consent": "GDPR Art. 7(1)",
        "account": user.account.name,
        "selection": selection,
        "exported_at": iso(now),
        "exported_by": user.display_name,
    }
