"""Accept fast: a delivery's events go into `feedback_events` in one insert, duplicates skipped.

The provider delivers at least once, so the provider's event id is unique per feed and a
redelivered event is simply not inserted again. Each event is matched to the account's
address (canonical form, DOMAIN.md rule 6) as it is stored; an unknown one keeps no address
id and is reported, never dropped.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..mailbox import canonical_address
from ..models import EmailAddress
from ..models.feedback import (
    FeedbackEvent,
    FeedbackFeed,
    FeedbackKind,
    FeedbackNonce,
    FeedbackOutcome,
)
from .reported import Reported
from .signatures import Refused

CHUNK = 1000
NONCE_KEPT = timedelta(minutes=10)  # longer than the 5 minutes a signature is accepted


def _insert(session: Session, model):
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


def store_events(
    session: Session, feed: FeedbackFeed, events: list[Reported], now: datetime
) -> Counter:
    """Store the events not stored before; return the new ones' outcomes. Flushes only.

    An event for an unknown address, or of a kind not acted on, is stored settled (its outcome
    final at once): only what processing can change is left pending.
    """
    unique = list({e.event_id: e for e in events}.values())
    new: Counter = Counter()
    for start in range(0, len(unique), CHUNK):
        new += _store_chunk(session, feed, unique[start : start + CHUNK], now)
    session.execute(
        sa.update(FeedbackFeed).where(FeedbackFeed.id == feed.id).values(last_received_at=now)
    )
    return new


def _outcome(kind: FeedbackKind, address_id: int | None) -> str:
    if address_id is None:
        return FeedbackOutcome.unknown_address.value
    if kind is FeedbackKind.other:
        return FeedbackOutcome.ignored.value
    return FeedbackOutcome.pending.value


def _store_chunk(session: Session, feed: FeedbackFeed, events: list[Reported], now) -> Counter:
    canonical = [canonical_address(e.address)[:320] for e in events]
    known = dict(
        session.execute(
            sa.select(EmailAddress.address, EmailAddress.id).where(
                EmailAddress.account_id == feed.account_id,
                EmailAddress.address.in_(sorted(set(canonical))),
            )
        ).all()
    )
    pending = FeedbackOutcome.pending.value
    rows = [
        {
            "feed_id": feed.id,
            "account_id": feed.account_id,
            "provider_event_id": e.event_id,
            "kind": e.kind.value,
            "raw_address": e.address,
            "address": address,
            "address_id": known.get(address),
            "occurred_at": e.occurred_at,
            "received_at": now,
            "outcome": (outcome := _outcome(e.kind, known.get(address))),
            "processed_at": None if outcome == pending else now,
            "detail": e.detail,
        }
        for e, address in zip(events, canonical, strict=True)
    ]
    if session.get_bind().dialect.name == "postgresql":
        return _insert_unnest(session, rows)
    statement = (
        _insert(session, FeedbackEvent.__table__)
        .on_conflict_do_nothing(index_elements=["feed_id", "provider_event_id"])
        .returning(FeedbackEvent.outcome)
    )
    # Core executemany: SQLAlchemy batches the rows into multi-row INSERTs ("insertmanyvalues");
    # RETURNING yields only what was inserted.
    return Counter(o.value for o in session.connection().execute(statement, rows).scalars())


_ARRAY_TYPES = {"feed_id": "int", "account_id": "int", "address_id": "int"}
_ARRAY_TYPES |= {"occurred_at": "timestamp", "received_at": "timestamp"}
_ARRAY_TYPES |= {"processed_at": "timestamp"}


def _insert_unnest(session: Session, rows: list[dict]) -> Counter:
    """PostgreSQL: one array per column and `INSERT … SELECT FROM unnest(…)`, a third of the time
    a thousand-row VALUES list takes (fewer parameters to send and parse)."""
    columns = list(rows[0])
    arrays = ", ".join(f"CAST(:{c} AS {_ARRAY_TYPES.get(c, 'text')}[])" for c in columns)
    names = ", ".join(columns)
    statement = sa.text(
        f"INSERT INTO feedback_events ({names}) SELECT * FROM unnest({arrays}) AS t({names}) "
        "ON CONFLICT (feed_id, provider_event_id) DO NOTHING RETURNING outcome"
    )
    params = {c: [_naive(row[c]) for row in rows] for c in columns}
    return Counter(session.execute(statement, params).scalars())


def _naive(value):
    """Timestamps are stored as naive UTC (models.base.UTCDateTime)."""
    return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value


def remember_nonce(session: Session, feed: FeedbackFeed, nonce: str, now: datetime) -> None:
    """Refuse a delivery whose signed nonce this feed saw in the last few minutes (a replay)."""
    session.execute(
        sa.delete(FeedbackNonce).where(
            FeedbackNonce.feed_id == feed.id, FeedbackNonce.seen_at < now - NONCE_KEPT
        )
    )
    statement = (
        _insert(session, FeedbackNonce)
        .values(feed_id=feed.id, nonce=nonce[:128], seen_at=now)
        .on_conflict_do_nothing(index_elements=["feed_id", "nonce"])
        .returning(FeedbackNonce.nonce)
    )
    if not session.execute(statement).all():
        raise Refused("replayed", "this signed delivery was received before")


def record_refusal(session: Session, feed_id: int, refused: Refused, now: datetime) -> None:
    """Count a refused delivery on its feed (shown on the settings page); flushes."""
    if refused.kind == "bad_signature":
        values = {
            "bad_signature_count": FeedbackFeed.bad_signature_count + 1,
            "last_bad_signature_at": now,
        }
    else:
        values = {"refused_count": FeedbackFeed.refused_count + 1, "last_refusal_at": now}
    values["last_refusal"] = f"{refused.kind.replace('_', ' ')}: {refused.reason}"[:200]
    session.execute(sa.update(FeedbackFeed).where(FeedbackFeed.id == feed_id).values(**values))
