"""Process in batches: every pending event of a feed, applied set-based in a few statements.

Hard bounces, complaints and provider-side unsubscribes change the address's status through
`status_changes.change_many` (the one status path, the rule book's `WHERE status IN …`), each
status event's note naming the feed and the provider's event id. Hard bounces go first, so
within one batch a bounce wins over a complaint or unsubscribe of the same address; all three
are then final or the recipient's own (DOMAIN.md rule 2), which the rule book enforces.
Soft bounces never change a status: they are counted, and the one that reaches the feed's
limit within its window is recorded as such.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..models import EmailAddress
from ..models.feedback import FeedbackEvent, FeedbackFeed, FeedbackKind, FeedbackOutcome
from ..status_changes import change_many, lock_account
from ..statuses import Actor, ActorKind, EmailStatus, EventChannel

K, Out = FeedbackKind, FeedbackOutcome
# A provider's unsubscribe is the recipient's own act, relayed; bounces and complaints are facts.
FEED = EventChannel.provider_feed
EFFECTS = (
    (K.hard_bounce, EmailStatus.hard_bounce, Actor(ActorKind.system, channel=FEED)),
    (K.complaint, EmailStatus.spam_complaint, Actor(ActorKind.system, channel=FEED)),
    (K.unsubscribe, EmailStatus.opted_out_by_recipient, Actor(ActorKind.recipient, channel=FEED)),
)


def _pending(feed: FeedbackFeed, *more):
    return sa.and_(FeedbackEvent.feed_id == feed.id, FeedbackEvent.outcome == Out.pending, *more)


def _mark(session: Session, where, outcome: FeedbackOutcome, now: datetime, **values) -> int:
    return session.execute(
        sa.update(FeedbackEvent)
        .where(where)
        .values(outcome=outcome, processed_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount


def apply_pending(session: Session, feed: FeedbackFeed, now: datetime) -> dict[str, int]:
    """Apply the feed's pending events; return counts by outcome. Flushes, never commits."""
    lock_account(session, feed.account_id)
    counts: dict[str, int] = {}  # unknown addresses and other kinds were settled when stored
    # Only the kinds present: a one-event delivery costs one status change, not four steps.
    present = set(session.scalars(sa.select(FeedbackEvent.kind).where(_pending(feed)).distinct()))
    applied = unchanged = 0
    for kind, status, actor in EFFECTS:
        if kind not in present:
            continue
        candidates = sa.select(FeedbackEvent.address_id).where(
            _pending(feed, FeedbackEvent.kind == kind)
        )
        # Each status event's note names the feed and the provider's event id. Written with
        # `processed_at IS NULL` (pending, in other words) so the planner probes the
        # (address, kind) index rather than walking every pending event of the feed per row.
        first = (
            sa.select(sa.literal(f"{feed.cause_label}: event ") + FeedbackEvent.provider_event_id)
            .where(
                FeedbackEvent.address_id == EmailAddress.id,
                FeedbackEvent.kind == kind,
                FeedbackEvent.feed_id == feed.id,
                FeedbackEvent.processed_at.is_(None),
            )
            .order_by(FeedbackEvent.id)
            .limit(1)
            .correlate(EmailAddress)
            .scalar_subquery()
        )
        if change_many(session, feed.account_id, candidates, status, actor, now, note=first):
            moved = sa.exists().where(  # a primary-key probe per pending event
                EmailAddress.id == FeedbackEvent.address_id,
                EmailAddress.status == status,
                EmailAddress.status_changed_at == now,
            )
            applied += _mark(
                session,
                _pending(feed, FeedbackEvent.kind == kind, moved),
                Out.applied,
                now,
            )
        unchanged += _mark(session, _pending(feed, FeedbackEvent.kind == kind), Out.unchanged, now)
    counts["applied"], counts["unchanged"] = applied, unchanged
    if K.soft_bounce in present:
        counts.update(_soft_bounces(session, feed, now))
    return counts


def _soft_bounces(session: Session, feed: FeedbackFeed, now: datetime) -> dict[str, int]:
    """Count soft bounces; the newest pending one of an address that reaches the limit within
    the window (this batch's included) is recorded as reaching it, once per window."""
    since = now - timedelta(hours=feed.soft_bounce_window_hours)
    other = aliased(FeedbackEvent)
    # Every subquery is keyed by the address (the address index), never by the feed's history.
    in_window = (
        sa.select(sa.func.count())
        .where(
            other.address_id == FeedbackEvent.address_id,
            other.kind == K.soft_bounce,
            other.occurred_at >= since,
        )
        .correlate(FeedbackEvent)
        .scalar_subquery()
    )
    newest_pending = (
        sa.select(sa.func.max(other.id))
        .where(
            other.address_id == FeedbackEvent.address_id,
            other.kind == K.soft_bounce,
            other.feed_id == feed.id,
            other.processed_at.is_(None),
        )
        .correlate(FeedbackEvent)
        .scalar_subquery()
    )
    already = (
        sa.select(other.id)
        .where(
            other.address_id == FeedbackEvent.address_id,
            other.kind == K.soft_bounce,
            other.outcome == Out.soft_threshold,
            other.processed_at >= since,
        )
        .correlate(FeedbackEvent)
        .exists()
    )
    limit, hours = feed.soft_bounce_limit, feed.soft_bounce_window_hours
    reached = _mark(
        session,
        _pending(
            feed,
            FeedbackEvent.kind == K.soft_bounce,
            FeedbackEvent.id == newest_pending,
            in_window >= limit,
            ~already,
        ),
        Out.soft_threshold,
        now,
        detail=sa.func.substr(
            sa.literal(f"{limit} or more soft bounces within {hours} h; status kept. ")
            + FeedbackEvent.detail,
            1,
            500,
        ),
    )
    counted = _mark(
        session, _pending(feed, FeedbackEvent.kind == K.soft_bounce), Out.soft_counted, now
    )
    return {"soft_counted": counted, "soft_threshold": reached}
