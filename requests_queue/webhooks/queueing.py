"""Deliveries queued in the caller's transaction, like the email outbox: no commit, no send.

One statement per event whatever the number of endpoints (an INSERT … SELECT from the
subscriptions). Address status changes and SLA marks are set-based: their bodies are built
in SQL, so a mass change of 800,000 addresses is one INSERT … SELECT writing a delivery per
1,000 changes per endpoint, and costs one indexed look-up when no endpoint wants them.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import ConsentRequest, EmailAddress, RequestEvent, RequestState
from ..models.sla import SlaEvent, SlaThreshold
from ..models.webhooks import (
    DeliveryState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSubscription,
)
from ..statuses import Actor, Cause, EmailStatus
from . import sqljson
from .sqljson import stamp

E = WebhookEvent
BATCH = 1000  # address changes per delivery
TRY_FOR = timedelta(hours=24)  # a delivery is tried for this long, then marked failed
COLUMNS = [
    "endpoint_id",
    "account_id",
    "event",
    "payload",
    "change_count",
    "state",
    "attempts",
    "created_at",
    "next_attempt_at",
    "give_up_at",
    "last_response",
    "last_error",
]
DECIDED = {RequestState.approved, RequestState.rejected}


def _listeners(event: WebhookEvent, account_id, *, desk: bool) -> sa.Select:
    """Endpoints that want `event` about `account_id` (a value or a column): the account's
    own, and with `desk` the managers' desk-wide ones."""
    own = WebhookEndpoint.account_id == account_id
    return (
        sa.select(WebhookSubscription.endpoint_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookSubscription.endpoint_id)
        .where(
            WebhookSubscription.event == event,
            sa.or_(own, WebhookEndpoint.account_id.is_(None)) if desk else own,
        )
    )


def _literal(key: str, value: Any) -> sa.ColumnElement:
    return sa.literal(value, WebhookDelivery.__table__.c[key].type).label(key)


def _fixed(event: WebhookEvent, now: datetime) -> list[sa.ColumnElement]:
    """The columns every new delivery of `event` shares, after endpoint, account, payload and
    change count (in COLUMNS order)."""
    return [
        _literal("state", DeliveryState.pending),
        _literal("attempts", 0),
        _literal("created_at", now),
        _literal("next_attempt_at", now),
        _literal("give_up_at", now + TRY_FOR),
        _literal("last_response", ""),
        _literal("last_error", ""),
    ]


def body(event: WebhookEvent, now: datetime, data: dict) -> str:
    """The JSON body of an event (the Standard Webhooks shape: type, timestamp, data)."""
    envelope = {"type": event.value, "timestamp": stamp(now), "data": data}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=False)


def queue_event(
    session: Session,
    event: WebhookEvent,
    account_id: int,
    data: dict,
    now: datetime,
    *,
    desk: bool = True,
    change_count: int = 1,
) -> int:
    """One delivery of `event` to every endpoint that wants it; returns how many."""
    listeners = _listeners(event, account_id, desk=desk).subquery()
    select = sa.select(
        listeners.c.endpoint_id,
        _literal("account_id", account_id),
        _literal("event", event),
        _literal("payload", body(event, now, data)),
        _literal("change_count", change_count),
        *_fixed(event, now),
    )
    return _insert(session, select)


def _insert(session: Session, select: sa.Select) -> int:
    stmt = sa.insert(WebhookDelivery).from_select(COLUMNS, select)
    return session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount


def _wanted(session: Session, events: list[WebhookEvent], account_id: int | None = None) -> bool:
    """Some endpoint wants one of `events` (of `account_id`'s, when given): a cheap look-up
    that spares the set-based statements when nobody listens."""
    query = (
        sa.select(WebhookSubscription.endpoint_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookSubscription.endpoint_id)
        .where(WebhookSubscription.event.in_(events))
    )
    if account_id is not None:
        query = query.where(WebhookEndpoint.account_id == account_id)
    return session.scalar(query.limit(1)) is not None


# --- Requests (lifecycle.py, filing.py, approval.py) ---


def request_data(req: ConsentRequest) -> dict:
    """What every request event says about the request."""
    return {
        "id": req.id,
        "number": req.number,
        "account_id": req.account_id,
        "kind": req.kind.value,
        "state": req.state.value,
        "address_count": req.address_count,
        "filed_at": stamp(req.filed_at),
    }


def request_filed(session: Session, req: ConsentRequest, now: datetime) -> int:
    """A customer filed `req`."""
    data = {"request": request_data(req)}
    return queue_event(session, E.request_filed, req.account_id, data, now)


def request_moved(session: Session, req: ConsentRequest, event: RequestEvent, now: datetime) -> int:
    """`req` moved from one state to another (a note or a reminder moves nothing)."""
    if event.from_state == event.to_state:
        return 0
    data = {
        "request": request_data(req),
        "from": event.from_state.value if event.from_state else None,
        "to": event.to_state.value,
        "action": event.kind.value,
        "actor": event.actor_kind.value,
    }
    return queue_event(session, E.request_state_changed, req.account_id, data, now)


def request_decided(session: Session, req: ConsentRequest, now: datetime) -> int:
    """`req` was approved (its changes applied and counted) or rejected."""
    if req.state not in DECIDED:
        return 0
    data = {
        "request": request_data(req),
        "decision": req.state.value,
        "decided_at": stamp(req.decided_at) if req.decided_at else None,
        "reject_reason": req.reject_reason.value if req.reject_reason else None,
        "counts": {
            "addresses": req.address_count,
            "changed": req.changed_count,
            "skipped": req.skipped_count,
            "skipped_by_reason": dict(req.skipped_by_reason or {}),
        },
    }
    return queue_event(session, E.request_decided, req.account_id, data, now)


# --- SLA marks (sla/sweep.py) ---

SLA_EVENTS = {SlaThreshold.at_risk: E.sla_at_risk, SlaThreshold.breached: E.sla_breached}


def sla_marks(session: Session, after_id: int, now: datetime) -> int:
    """One delivery per SLA mark recorded after `after_id` (this sweep's) per listener."""
    if not _wanted(session, list(SLA_EVENTS.values())):
        return 0
    R, M = ConsentRequest, SlaEvent
    dialect = session.get_bind().dialect.name
    queued = 0
    Endpoint, Wants = WebhookEndpoint, WebhookSubscription
    for threshold, event in SLA_EVENTS.items():
        request = sqljson.obj(
            dialect,
            id=R.id,
            number=sqljson.request_number(dialect, R.id),
            account_id=R.account_id,
            kind=R.kind,
            state=R.state,
            address_count=R.address_count,
            filed_at=sqljson.iso(dialect, R.filed_at),
        )
        data = sqljson.obj(
            dialect,
            request=request,
            threshold=sa.literal(threshold.value, sa.String),
            recorded_at=sqljson.iso(dialect, M.recorded_at),
        )
        select = (
            sa.select(
                Wants.endpoint_id,
                R.account_id,
                _literal("event", event),
                sqljson.text(dialect, sqljson.envelope(dialect, event, now, data)),
                _literal("change_count", 1),
                *_fixed(event, now),
            )
            .select_from(M)
            .join(R, R.id == M.request_id)
            .join(
                Endpoint,
                sa.or_(Endpoint.account_id == R.account_id, Endpoint.account_id.is_(None)),
            )
            .join(Wants, sa.and_(Wants.endpoint_id == Endpoint.id, Wants.event == event))
            .where(M.id > after_id, M.threshold == threshold)
        )
        queued += _insert(session, select)
    return queued


# --- Address status changes (status_changes.py) ---


def _change_data(account_id: int, actor: Actor, cause: Cause, now: datetime) -> dict:
    # The ids (and any other detail) the change names; unset fields are left out.
    causes = {k: v for k, v in dataclasses.asdict(cause).items() if v not in (None, False, "")}
    return {
        "account_id": account_id,
        "changed_at": stamp(now),
        "actor": actor.kind.value,
        "cause": causes,
    }


def address_changed(
    session: Session,
    address: EmailAddress,
    source: EmailStatus | None,
    to: EmailStatus,
    actor: Actor,
    cause: Cause,
    now: datetime,
) -> int:
    """One address changed status (change_status): a delivery carrying one change."""
    if not _wanted(session, [E.address_status_changed], address.account_id):
        return 0
    change = {
        "address_id": address.id,
        "address": address.address,
        "contact_id": address.contact_id,
        "field": address.field.value if address.field else None,
        "from": source.value if source else None,
        "to": to.value,
    }
    data = {**_change_data(address.account_id, actor, cause, now), "changes": [change]}
    return queue_event(session, E.address_status_changed, address.account_id, data, now, desk=False)


def addresses_changing(
    session: Session,
    account_id: int,
    eligible: sa.ColumnElement[bool],
    to: EmailStatus,
    actor: Actor,
    cause: Cause,
    now: datetime,
) -> int:
    """The addresses `eligible` selects are about to move to `to` (change_many, before its
    UPDATE): one INSERT … SELECT writing a delivery per BATCH changes per listening endpoint.
    Returns the number of deliveries."""
    if not _wanted(session, [E.address_status_changed], account_id):
        return 0
    A = EmailAddress
    dialect = session.get_bind().dialect.name
    changes = (
        sa.select(
            A.id,
            A.address,
            A.contact_id,
            A.field,
            A.status,
            ((sa.func.row_number().over(order_by=A.id) - 1) // BATCH).label("chunk"),
        )
        .where(eligible)
        .subquery("changes")
    )
    c = changes.c
    change = sqljson.obj(
        dialect,
        address_id=c.id,
        address=c.address,
        contact_id=c.contact_id,
        field=c.field,
        **{"from": c.status, "to": sa.literal(to.value, sa.String)},
    )
    batches = (
        sa.select(
            c.chunk,
            sa.func.count().label("n"),
            sqljson.agg(dialect, change, c.id).label("changes"),
        )
        .group_by(c.chunk)
        .subquery("batches")
    )
    event = E.address_status_changed
    data = sqljson.obj(
        dialect,
        **_change_data(account_id, actor, cause, now),
        changes=sqljson.as_json(dialect, batches.c.changes),
    )
    listeners = _listeners(event, account_id, desk=False).subquery()
    select = (
        sa.select(
            listeners.c.endpoint_id,
            _literal("account_id", account_id),
            _literal("event", event),
            sqljson.text(dialect, sqljson.envelope(dialect, event, now, data)),
            batches.c.n,
            *_fixed(event, now),
        )
        .select_from(batches)
        .join(listeners, sa.true())
        .order_by(batches.c.chunk, listeners.c.endpoint_id)
    )
    return _insert(session, select)
