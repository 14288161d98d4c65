"""Every status event of the chosen addresses, with the evidence behind each, as a stream.

One statement reads the events in (address, event) order through a server-side cursor, joined
with what is per address: the address itself, the user who acted, and for a recipient's click
the confirmation email that carried the link. What a cause says (an import batch, a request,
a mass action) is the same for every address it touched, so each is read once, on first use,
and kept for the rest of the export: a selection of a million addresses from one import
reads that batch once and never holds more than one chunk of events in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..campaigns.links import hide_recipient_links
from ..campaigns.queueing import KIND as CONFIRMATION_KIND
from ..models import (
    AddressMerge,
    CampaignRecipient,
    ConsentRequest,
    EmailAddress,
    ImportBatch,
    MassAction,
    OutboxMessage,
    RequestEvent,
    RequestEventKind,
    StatusEvent,
    User,
)
from ..requests.attachments import request_attachments as evidence_files
from ..statuses import ActorKind, EmailStatus, EventChannel

CHUNK = 2000  # events fetched per round trip; the most the export holds at once

# Each event's cause, in the order the history pages name them.
CAUSES = ("request", "mass_action", "import", "campaign")


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC with a Z, the form the export uses throughout."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


@dataclass(frozen=True)
class ProofAddress:
    """The address a group of events belongs to."""

    address_id: int
    address: str
    contact_id: int | None
    field: str | None
    status: str


def _subjects(address_ids: sa.Select) -> sa.CTE:
    """(subject, address row, spelling) pairs: each chosen address and the rows merged into it
    when addresses became canonical, whose history is the mailbox's too."""
    chosen = address_ids.scalar_subquery()
    return sa.union_all(
        sa.select(
            EmailAddress.id.label("subject_id"),
            EmailAddress.id.label("row_id"),
            sa.null().label("recorded_as"),
        ).where(EmailAddress.id.in_(chosen)),
        sa.select(
            AddressMerge.survivor_id, AddressMerge.merged_id, AddressMerge.merged_address
        ).where(AddressMerge.survivor_id.in_(chosen)),
    ).cte("subjects")


def _statement(account_id: int, address_ids: sa.Select) -> sa.Select:
    subjects = _subjects(address_ids)
    e, a, u = StatusEvent, aliased(EmailAddress), aliased(User)
    r, o = aliased(CampaignRecipient), aliased(OutboxMessage)
    return (
        sa.select(
            subjects.c.subject_id,
            a.address,
            a.typed_address,
            a.contact_id,
            a.field,
            a.status,
            subjects.c.recorded_as,
            e.id,
            e.created_at,
            e.from_status,
            e.to_status,
            e.actor_kind,
            u.name,
            u.email,
            e.channel,
            e.client_ip,
            e.user_agent,
            e.request_id,
            e.mass_action_id,
            e.import_batch_id,
            e.campaign_id,
            e.note,
            r.created_at.label("email_written_at"),
            o.subject,
            o.body_text,
            o.state,
            o.sent_at,
        )
        .select_from(subjects)
        .join(a, a.id == subjects.c.subject_id)
        .join(e, e.address_id == subjects.c.row_id)
        .outerjoin(u, u.id == e.actor_user_id)
        .outerjoin(r, sa.and_(r.campaign_id == e.campaign_id, r.address_id == e.address_id))
        .outerjoin(
            o,
            sa.and_(
                o.campaign_id == r.campaign_id,
                o.to_address == r.address,
                o.kind == CONFIRMATION_KIND,
            ),
        )
        .where(a.account_id == account_id, e.account_id == account_id)
        .order_by(subjects.c.subject_id, e.id)
    )


class _Causes:
    """What each import batch, request and mass action says, read once per export."""

    def __init__(self, session: Session):
        self.session = session
        self.seen: dict[tuple[str, int], dict] = {}

    def get(self, kind: str, object_id: int | None) -> dict | None:
        """The cause's evidence as the export writes it, or None when the event has none."""
        if object_id is None:
            return None
        key = (kind, object_id)
        if key not in self.seen:
            self.seen[key] = getattr(self, "_" + kind)(object_id)
        return self.seen[key]

    def _name(self, user_id: int | None) -> str | None:
        user = self.session.get(User, user_id) if user_id else None
        return user.display_name if user else None

    def _import(self, batch_id: int) -> dict:
        batch = self.session.get(ImportBatch, batch_id)
        return {
            "id": batch.id,
            "file": batch.filename,
            "permission_confirmed": batch.permission_confirmed,
            "permission_statement": batch.permission_statement,
            "answered_by": self._name(batch.user_id),
            "answered_at": iso(batch.created_at),
        }

    def _mass_action(self, batch_id: int) -> dict:
        batch = self.session.get(MassAction, batch_id)
        return {
            "id": batch.id,
            "kind": batch.kind.title,
            "selection": batch.selection,
            "by": self._name(batch.user_id),
            "at": iso(batch.created_at),
        }

    def _request(self, request_id: int) -> dict:
        req = self.session.get(ConsentRequest, request_id)
        return {
            "number": req.number,
            "kind": req.kind.title,
            "filed_by": self._name(req.filed_by_id),
            "filed_at": iso(req.filed_at),
            "evidence": {
                "reason": req.reason,
                "last_sent_on": "never" if req.never_sent else str(req.last_sent_on),
                "explicit_permission": req.explicit_permission,
                "permission_details": req.permission_details,
                "form_links": list(req.form_links),
                "list_source": req.list_source.title,
                "attested": req.attested,
            },
            "conversation": self._conversation(request_id),
            "attachments": request_attachments(self.session, request_id),
            "state": req.state.title,
            "decided_by": self._name(req.decided_by_id),
            "decided_at": iso(req.decided_at),
            "checklist": list(req.checklist),
            "reject_reason": req.reject_reason.title if req.reject_reason else None,
            "decision_message": req.decision_message,
        }

    def _conversation(self, request_id: int) -> list[dict]:
        """Support's questions and the customer's answers (never internal notes)."""
        kinds = (RequestEventKind.question, RequestEventKind.answer)
        rows = self.session.scalars(
            sa.select(RequestEvent)
            .where(
                RequestEvent.request_id == request_id,
                RequestEvent.kind.in_(kinds),
                RequestEvent.is_internal.is_(False),
            )
            .order_by(RequestEvent.id)
        )
        return [
            {
                "kind": row.kind.title,
                "at": iso(row.created_at),
                "by": self._name(row.actor_user_id),
                "text": row.body,
            }
            for row in rows
        ]


def request_attachments(session: Session, request_id: int) -> list[dict]:
    """The request's evidence files: what each is (name, type, size, SHA-256), who attached it
    when, and whether it came with the filing or an answer. The bytes stay in the request."""
    return [
        {
            "name": f.name,
            "content_type": f.content_type,
            "size": f.size,
            "sha256": f.sha256,
            "uploaded_by": f.uploaded_by_email,
            "uploaded_at": iso(f.uploaded_at),
            "came_with": f.came_with,
        }
        for f in evidence_files(session, request_id)
    ]


def _channel(row) -> str:
    """How the change arrived: as recorded, else what its cause implies, else not recorded."""
    if row.channel is not None:
        return EventChannel(row.channel).title
    if row.import_batch_id is not None:
        return "Import file"
    if row.campaign_id is not None:
        return EventChannel.recipient_link.title
    if row.actor_kind is ActorKind.system:
        return "Consent Desk (system)"
    return "Not recorded"


def _cause(row) -> tuple[str, int | None]:
    for kind in CAUSES:
        object_id = getattr(row, "import_batch_id" if kind == "import" else kind + "_id")
        if object_id is not None:
            return kind, object_id
    return ("provider_feed" if row.channel is EventChannel.provider_feed else "manual"), None


def _email(row) -> dict | None:
    if row.campaign_id is None or row.email_written_at is None:
        return None
    return {
        "campaign_id": row.campaign_id,
        "written_at": iso(row.email_written_at),
        "subject": row.subject,
        # The exact text sent, but with the links' tokens hidden: they are the recipient's keys.
        "text": hide_recipient_links(row.body_text) if row.body_text is not None else None,
        "delivery": row.state.title if row.state is not None else None,
        "sent_at": iso(row.sent_at),
    }


def _event(row, causes: _Causes) -> dict:
    kind, cause_id = _cause(row)
    return {
        "event_id": row.id,
        "at": iso(row.created_at),
        "from_status": row.from_status.value if row.from_status else None,
        "to_status": row.to_status.value,
        "actor": row.actor_kind.value,
        "actor_name": row.name or row.email,
        "channel": _channel(row),
        "client_ip": row.client_ip,
        "user_agent": row.user_agent,
        "cause": kind,
        "cause_id": cause_id,
        "recorded_as": row.recorded_as,
        "note": row.note,
        "import": causes.get("import", row.import_batch_id),
        "request": causes.get("request", row.request_id),
        "mass_action": causes.get("mass_action", row.mass_action_id),
        "confirmation_email": _email(row),
    }


def proof_events(
    session: Session, account_id: int, address_ids: sa.Select, chunk: int = CHUNK
) -> Iterator[tuple[ProofAddress, dict]]:
    """(address, event) for every status event of the chosen addresses of the account, in
    address order and each address's events oldest first; streamed in chunks of `chunk`."""
    causes = _Causes(session)
    result = session.execute(
        _statement(account_id, address_ids),
        execution_options={"stream_results": True, "yield_per": chunk},
    )
    current: ProofAddress | None = None
    for row in result:
        if current is None or current.address_id != row.subject_id:
            current = ProofAddress(
                address_id=row.subject_id,
                address=row.typed_address or row.address,
                contact_id=row.contact_id,
                field=row.field.value if row.field else None,
                status=EmailStatus(row.status).value,
            )
        yield current, _event(row, causes)
