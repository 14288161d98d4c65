"""Saved replies: who may use and change which, their placeholders, and filling them in.

A reply is shared (no owner: every agent picks it, only managers change it) or personal (its
owner alone sees, picks and changes it; to anyone else it does not exist). Its text may name
the placeholders in `PLACEHOLDERS`, written `{customer_name}`; `{{` and `}}` stand for literal
braces. A text naming anything else is refused when saved, so a reply never reaches a
customer with a hole in it. Filling in substitutes plain text once: a value holding braces is
not read again, and the page escapes the result like any text a person typed.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationError
from ..models import ConsentRequest, ReplyPurpose, SavedReply
from ..statuses import Actor, ActorKind
from ..time_zones import instant_text, reader_zone
from .evidence import CHECKLIST
from .state_machine import NotAllowed

MAX_TITLE = 80
MAX_BODY = 5000  # the longest question or rejection message the lifecycle accepts

PLACEHOLDERS: dict[str, str] = {
    "customer_name": "the name of the customer who filed the request",
    "request_number": "the request's number, e.g. R-000123",
    "expected_by": "when the customer can expect a decision",
    "missing_evidence": "the evidence items not ticked on the review page's checklist",
}


def placeholders_in(body: str) -> list[str]:
    """The placeholder names a text uses, in order; ValidationError("body") when its braces
    do not parse or it names one that does not exist."""
    try:
        parts = list(string.Formatter().parse(body))
    except ValueError:
        raise ValidationError(
            "body", "a brace opens or closes no placeholder; write {{ or }} for a literal brace"
        ) from None
    names = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            known = ", ".join(f"{{{n}}}" for n in PLACEHOLDERS)
            shown = f"{{{name}}}" if name else "{}"
            raise ValidationError("body", f"unknown placeholder {shown}; use {known}")
        if spec or conversion:
            raise ValidationError(
                "body", f"write the placeholder as {{{name}}}, with nothing after its name"
            )
        names.append(name)
    return names


def fill_in(body: str, values: Mapping[str, str]) -> str:
    """The text with each placeholder replaced by its value (plain text, substituted once)."""
    out = []
    for literal, name, _, _ in string.Formatter().parse(body):
        out.append(literal)
        if name is not None:
            out.append(values.get(name, ""))
    return "".join(out)


def missing_evidence(ticked: Iterable[str]) -> str:
    """The checklist items not ticked, in words ("Attestation and List source"); every item
    when none is ticked."""
    ticked = set(ticked)
    left = [title for key, title in CHECKLIST if key not in ticked] or [t for _, t in CHECKLIST]
    if len(left) == 1:
        return left[0]
    return f"{', '.join(left[:-1])} and {left[-1]}"


def reply_values(
    req: ConsentRequest, expected_by: datetime | None, ticked: Iterable[str] = ()
) -> dict[str, str]:
    """What each placeholder stands for on `req` (`expected_by` in the team's zone, or None
    once the request is decided). The reply is read by the customer who filed: the date is in
    their zone, with the team's time where it reads differently, as their pages show it."""
    if expected_by is not None:
        team = expected_by.tzinfo
        zone = reader_zone(req.filed_by, team)
        when = instant_text(expected_by, zone, "long", team=team)
    return {
        "customer_name": req.filed_by.display_name,
        "request_number": req.number,
        "expected_by": when if expected_by is not None else "no date (decided)",
        "missing_evidence": missing_evidence(ticked),
    }


def is_support(actor: Actor) -> bool:
    """Agents and managers keep and pick saved replies."""
    return actor.kind in (ActorKind.agent, ActorKind.manager)


def can_edit(reply: SavedReply, actor: Actor) -> bool:
    """Managers change shared replies; everybody changes only their own personal ones."""
    if reply.is_shared:
        return actor.kind is ActorKind.manager
    return reply.owner_id == actor.user_id


def is_visible(reply: SavedReply, actor: Actor) -> bool:
    """Shared replies are every support user's; a personal one is its owner's alone."""
    return is_support(actor) and (reply.is_shared or reply.owner_id == actor.user_id)


def visible_replies(
    session: Session, actor: Actor, purpose: ReplyPurpose | None = None
) -> list[SavedReply]:
    """The replies `actor` may pick, shared first, each group by title."""
    if not is_support(actor):
        return []
    r = SavedReply
    query = sa.select(r).where(sa.or_(r.owner_id.is_(None), r.owner_id == actor.user_id))
    if purpose is not None:
        query = query.where(r.purpose == purpose)
    return list(session.scalars(query.order_by(r.owner_id.is_not(None), r.title, r.id)))


def get_reply(session: Session, reply_id: int, actor: Actor) -> SavedReply:
    """The reply if `actor` may see it; NotFound otherwise (another's personal reply too)."""
    reply = session.get(SavedReply, reply_id)
    if reply is None or not is_visible(reply, actor):
        raise NotFound(f"saved reply {reply_id} does not exist")
    return reply


@dataclass(frozen=True)
class ReplyInput:
    """What the person typed for a saved reply."""

    title: str
    body: str
    purpose: ReplyPurpose | None
    shared: bool = False


def _checked(data: ReplyInput) -> tuple[str, str, ReplyPurpose]:
    title, body = (data.title or "").strip(), (data.body or "").strip()
    if not title:
        raise ValidationError("title", "give the reply a title")
    if len(title) > MAX_TITLE:
        raise ValidationError("title", f"keep the title under {MAX_TITLE} characters")
    if not isinstance(data.purpose, ReplyPurpose):
        raise ValidationError("purpose", "choose where the reply is offered")
    if not body:
        raise ValidationError("body", "write the reply's text")
    if len(body) > MAX_BODY:
        raise ValidationError("body", f"keep it under {MAX_BODY} characters")
    placeholders_in(body)
    return title, body, data.purpose


def create_reply(session: Session, data: ReplyInput, actor: Actor, now: datetime) -> SavedReply:
    """Save a new reply: personal, or shared when a manager asks for it."""
    if not is_support(actor) or (data.shared and actor.kind is not ActorKind.manager):
        raise NotAllowed("only managers add shared replies")
    title, body, purpose = _checked(data)
    reply = SavedReply(
        owner_id=None if data.shared else actor.user_id,
        purpose=purpose,
        title=title,
        body=body,
        created_at=now,
        updated_at=now,
    )
    session.add(reply)
    session.flush()
    return reply


def update_reply(
    session: Session, reply: SavedReply, data: ReplyInput, actor: Actor, now: datetime
) -> None:
    """Change a reply's title, purpose and text (whether it is shared stays as it was)."""
    if not is_visible(reply, actor):
        raise NotFound(f"saved reply {reply.id} does not exist")
    if not can_edit(reply, actor):
        raise NotAllowed("only managers change shared replies")
    reply.title, reply.body, reply.purpose = _checked(data)
    reply.updated_at = now
    session.flush()


def delete_reply(session: Session, reply: SavedReply, actor: Actor) -> None:
    """Remove a reply; texts already sent stay on the timelines that hold them."""
    if not is_visible(reply, actor):
        raise NotFound(f"saved reply {reply.id} does not exist")
    if not can_edit(reply, actor):
        raise NotAllowed("only managers remove shared replies")
    session.delete(reply)
    session.flush()
