"""Registering, listing and removing endpoints; what their owners see of the deliveries.

An endpoint belongs to an account (its customers manage it and it hears only that account)
or to the desk (managers manage it; it hears every account's requests and SLA). Agents have
none. Another owner's endpoint or delivery is a NotFound, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationError
from ..models import Role, User
from ..models.webhooks import (
    DESK_EVENTS,
    DeliveryState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSubscription,
)
from ..requests.state_machine import NotAllowed
from .queueing import TRY_FOR
from .signing import new_secret
from .targets import TargetPolicy, check_url

MAX_ENDPOINTS = 10  # per account, and for the desk
MAX_DESCRIPTION = 200


@dataclass(frozen=True)
class Owner:
    """Whose endpoints a user manages: an account's, or the desk's (account_id None)."""

    account_id: int | None

    @property
    def events(self) -> tuple[WebhookEvent, ...]:
        """The events its endpoints may ask for."""
        return tuple(WebhookEvent) if self.account_id is not None else DESK_EVENTS

    def owns(self, column: sa.ColumnElement) -> sa.ColumnElement[bool]:
        """SQL: the endpoint's `account_id` column says it is this owner's."""
        if self.account_id is None:
            return column.is_(None)
        return column == self.account_id


def owner_of(user: User) -> Owner:
    """Customers manage their account's endpoints, managers the desk's; agents none."""
    if user.role is Role.customer and user.account_id is not None:
        return Owner(user.account_id)
    if user.role is Role.manager:
        return Owner(None)
    raise NotAllowed("only customers and managers have webhook endpoints")


def endpoints_of(session: Session, owner: Owner) -> list[WebhookEndpoint]:
    """The owner's endpoints, newest first."""
    return list(
        session.scalars(
            sa.select(WebhookEndpoint)
            .where(owner.owns(WebhookEndpoint.account_id))
            .order_by(WebhookEndpoint.id.desc())
        )
    )


def get_endpoint(session: Session, owner: Owner, endpoint_id: int) -> WebhookEndpoint:
    """One of the owner's endpoints; NotFound for anybody else's."""
    endpoint = session.scalar(
        sa.select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, owner.owns(WebhookEndpoint.account_id)
        )
    )
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def create_endpoint(
    session: Session,
    user: User,
    url: str,
    events: Iterable[str],
    description: str,
    policy: TargetPolicy,
    now: datetime,
) -> WebhookEndpoint:
    """Register an endpoint with a new secret (its owner sees `endpoint.secret` once)."""
    owner = owner_of(user)
    url = check_url(url, policy)
    chosen = _events(owner, events)
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError("description", f"keep it under {MAX_DESCRIPTION} characters")
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(WebhookEndpoint)
        .where(owner.owns(WebhookEndpoint.account_id))
    )
    if count >= MAX_ENDPOINTS:
        raise ValidationError(None, f"at most {MAX_ENDPOINTS} endpoints; remove one first")
    endpoint = WebhookEndpoint(
        account_id=owner.account_id,
        created_by_id=user.id,
        url=url,
        description=description,
        secret=new_secret(),
        created_at=now,
        subscriptions=[WebhookSubscription(event=e) for e in chosen],
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def _events(owner: Owner, values: Iterable[str]) -> list[WebhookEvent]:
    chosen: list[WebhookEvent] = []
    for value in values:
        try:
            event = WebhookEvent(value)
        except ValueError:
            raise ValidationError("events", "choose events from the list") from None
        if event not in owner.events:
            raise ValidationError("events", f"{event.title} is not offered here")
        if event not in chosen:
            chosen.append(event)
    if not chosen:
        raise ValidationError("events", "choose at least one event")
    return chosen


def rotate_secret(session: Session, owner: Owner, endpoint_id: int) -> WebhookEndpoint:
    """A new secret for the endpoint; deliveries from now on are signed with it."""
    endpoint = get_endpoint(session, owner, endpoint_id)
    endpoint.secret = new_secret()
    session.flush()
    return endpoint


def delete_endpoint(session: Session, owner: Owner, endpoint_id: int) -> WebhookEndpoint:
    """Remove the endpoint, its subscriptions and its deliveries (nothing more is sent)."""
    endpoint = get_endpoint(session, owner, endpoint_id)
    for table in (WebhookDelivery, WebhookSubscription):
        session.execute(
            sa.delete(table)
            .where(table.endpoint_id == endpoint.id)
            .execution_options(synchronize_session=False)
        )
    session.delete(endpoint)
    session.flush()
    return endpoint


def recent_deliveries(
    session: Session, endpoint: WebhookEndpoint, limit: int = 50
) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first."""
    return list(
        session.scalars(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


def delivery_counts(session: Session, endpoint_ids: list[int]) -> dict[int, dict]:
    """Per endpoint, how many deliveries are in each state (zeros included)."""
    counts = {i: dict.fromkeys(DeliveryState, 0) for i in endpoint_ids}
    rows = session.execute(
        sa.select(WebhookDelivery.endpoint_id, WebhookDelivery.state, sa.func.count())
        .where(WebhookDelivery.endpoint_id.in_(endpoint_ids))
        .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.state)
    ).all()
    for endpoint_id, state, n in rows:
        counts[endpoint_id][state] = n
    return counts


def retry_failed(session: Session, owner: Owner, endpoint_id: int, now: datetime) -> int:
    """Put the endpoint's failed deliveries back in line for another 24 hours of tries."""
    endpoint = get_endpoint(session, owner, endpoint_id)
    return session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.state == DeliveryState.failed,
        )
        .values(
            state=DeliveryState.pending,
            attempts=0,
            next_attempt_at=now,
            give_up_at=now + TRY_FOR,
            claimed_by=None,
            claimed_at=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
