"""Each provider's payload, read into `Reported` events (after its signature was checked).

What counts as what, per provider (from each provider's public documentation):
- SES (an SNS Notification whose Message is the SES notification or event): a Permanent
  bounce is hard, a Transient one soft; a Complaint is a complaint.
- Postmark: Bounce webhooks by Type (HardBounce, BadEmailAddress hard; SoftBounce, Transient,
  DnsError, InboxFull soft), SpamComplaint, and SubscriptionChange with SuppressSending.
- SendGrid: bounce (type bounce hard, blocked soft), deferred soft, spamreport, unsubscribe.
- Mailgun: failed (severity permanent hard, temporary soft), complained, unsubscribed.
- Generic (Standard Webhooks): `{"type": "hard_bounce" | "soft_bounce" | "complaint" |
  "unsubscribe", "timestamp": ISO 8601, "data": {"address": …, "id": …}}`, or a list of them.
Anything else is stored as `other` and not acted on.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ..models.feedback import FeedbackKind, FeedProvider
from .reported import BadPayload, Reported

K = FeedbackKind
MAX_EVENTS = 1000  # per delivery; SendGrid batches are smaller


def _json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("the body is not JSON") from None


def _when(value, fallback: datetime) -> datetime:
    """An ISO 8601 or epoch-seconds instant as aware UTC; the arrival time when missing."""
    if value in (None, ""):
        return fallback
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC)
        text = str(value).replace("Z", "+00:00")
        if "." in text:  # .NET-style seven decimals (Postmark): Python reads at most six
            head, _, tail = text.partition(".")
            digits = "".join(c for c in tail if c.isdigit())
            text = f"{head}.{digits[:6]}{tail[len(digits) :]}"
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise BadPayload(f"{value!r} is not a date and time") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value, limit: int = 200) -> str:
    return "" if value is None else str(value)[:limit]


def _event(event_id, kind, address, occurred_at, detail="") -> Reported:
    if not event_id:
        raise BadPayload("an event has no id")
    if not address or not isinstance(address, str):
        raise BadPayload(f"event {_text(event_id)} names no address")
    return Reported(_text(event_id), kind, address[:320], occurred_at, _text(detail, 500))


def parse_ses(message: dict, now: datetime) -> list[Reported]:
    """An SNS Notification carrying an SES bounce or complaint (notification or event)."""
    inner = message.get("Message")
    note = _json(inner.encode()) if isinstance(inner, str) else inner
    if not isinstance(note, dict):
        raise BadPayload("the SNS Message is not an SES notification")
    kind_name = note.get("notificationType") or note.get("eventType")
    out = []
    if kind_name == "Bounce":
        bounce = note.get("bounce") or {}
        kind = {"Permanent": K.hard_bounce, "Transient": K.soft_bounce}.get(
            bounce.get("bounceType"), K.other
        )
        detail = f"{bounce.get('bounceType')}/{bounce.get('bounceSubType')}"
        recipients = [r.get("emailAddress") for r in bounce.get("bouncedRecipients") or []]
        base_id, when = bounce.get("feedbackId"), bounce.get("timestamp")
    elif kind_name == "Complaint":
        complaint = note.get("complaint") or {}
        kind, detail = K.complaint, _text(complaint.get("complaintFeedbackType") or "complaint")
        recipients = [r.get("emailAddress") for r in complaint.get("complainedRecipients") or []]
        base_id, when = complaint.get("feedbackId"), complaint.get("timestamp")
    else:
        recipients, kind, detail = [], K.other, ""
        base_id, when = None, None
    for address in recipients:
        out.append(_event(f"{base_id}:{address}", kind, address, _when(when, now), detail))
    return out


_POSTMARK_KINDS = {
    "HardBounce": K.hard_bounce,
    "BadEmailAddress": K.hard_bounce,
    "SoftBounce": K.soft_bounce,
    "Transient": K.soft_bounce,
    "DnsError": K.soft_bounce,
    "InboxFull": K.soft_bounce,
    "SpamComplaint": K.complaint,
    "Unsubscribe": K.unsubscribe,
}


# Why Postmark stopped sending to an address (a SubscriptionChange that suppresses it).
_POSTMARK_SUPPRESSIONS = {
    "ManualSuppression": K.unsubscribe,
    "HardBounce": K.hard_bounce,
    "SpamComplaint": K.complaint,
}


def parse_postmark(body: bytes, now: datetime) -> list[Reported]:
    """One Postmark webhook: Bounce, SpamComplaint or SubscriptionChange."""
    data = _json(body)
    if not isinstance(data, dict):
        raise BadPayload("a Postmark webhook is one JSON object")
    record = data.get("RecordType")
    if record in ("Bounce", "SpamComplaint"):
        kind = _POSTMARK_KINDS.get(data.get("Type"), K.other)
        if record == "SpamComplaint":
            kind = K.complaint
        return [
            _event(
                f"{record}:{data.get('ID')}" if data.get("ID") is not None else None,
                kind,
                data.get("Email"),
                _when(data.get("BouncedAt"), now),
                f"{data.get('Type')}: {_text(data.get('Description'), 300)}",
            )
        ]
    if record == "SubscriptionChange":
        suppressed = data.get("SuppressSending") is True
        reason = _text(data.get("SuppressionReason"))
        kind = _POSTMARK_SUPPRESSIONS.get(reason, K.other) if suppressed else K.other
        changed = data.get("ChangedAt")
        return [
            _event(
                f"SubscriptionChange:{data.get('MessageID')}:{changed}",
                kind,
                data.get("Recipient"),
                _when(changed, now),
                f"SubscriptionChange: {reason or 'reactivated'}",
            )
        ]
    return []  # deliveries, opens, clicks: nothing about consent


_SENDGRID_KINDS = {
    "deferred": K.soft_bounce,
    "spamreport": K.complaint,
    "unsubscribe": K.unsubscribe,
}


def parse_sendgrid(body: bytes, now: datetime) -> list[Reported]:
    """SendGrid's event webhook: a JSON array of events."""
    data = _json(body)
    if not isinstance(data, list):
        raise BadPayload("SendGrid posts a JSON array of events")
    if len(data) > MAX_EVENTS:
        raise BadPayload(f"at most {MAX_EVENTS} events a delivery")
    out = []
    for item in data:
        if not isinstance(item, dict):
            raise BadPayload("each SendGrid event is a JSON object")
        name = item.get("event")
        if name == "bounce":
            kind = K.soft_bounce if item.get("type") == "blocked" else K.hard_bounce
        else:
            kind = _SENDGRID_KINDS.get(name)
        if kind is None:
            continue  # processed, delivered, open, click, group (un)subscribe: not acted on
        detail = f"{name}: {_text(item.get('reason') or item.get('response'), 300)}"
        when = _when(item.get("timestamp"), now)
        out.append(_event(item.get("sg_event_id"), kind, item.get("email"), when, detail))
    return out


def parse_mailgun(body: bytes, now: datetime) -> list[Reported]:
    """One Mailgun webhook: its `event-data`."""
    data = _json(body)
    event = data.get("event-data") if isinstance(data, dict) else None
    if not isinstance(event, dict):
        raise BadPayload("no event-data in the Mailgun webhook")
    name = event.get("event")
    if name == "failed":
        kind = K.hard_bounce if event.get("severity") == "permanent" else K.soft_bounce
    else:
        kind = {"complained": K.complaint, "unsubscribed": K.unsubscribe}.get(name)
    if kind is None:
        return []
    status = event.get("delivery-status") or {}
    detail = f"{name}: {_text(event.get('reason'))} {_text(status.get('description'), 250)}"
    when = _when(event.get("timestamp"), now)
    return [_event(event.get("id"), kind, event.get("recipient"), when, detail.strip())]


_STANDARD_KINDS = {k.value: k for k in (K.hard_bounce, K.soft_bounce, K.complaint, K.unsubscribe)}


def parse_standard(body: bytes, message_id: str, now: datetime) -> list[Reported]:
    """The generic format: one event object, or a list; ids default to the message's id."""
    data = _json(body)
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_EVENTS:
        raise BadPayload(f"at most {MAX_EVENTS} events a delivery")
    out = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
            raise BadPayload('each event is an object with "type", "timestamp" and "data"')
        kind = _STANDARD_KINDS.get(item.get("type"), K.other)
        inner = item["data"]
        event_id = inner.get("id") or (message_id if len(items) == 1 else f"{message_id}:{n}")
        when = _when(item.get("timestamp"), now)
        out.append(_event(event_id, kind, inner.get("address"), when, _text(inner.get("reason"))))
    return out


def parse(provider: FeedProvider, body: bytes, now: datetime, message_id: str = "") -> list:
    """The events of one delivery (SES takes the verified SNS message instead of the body)."""
    if provider is FeedProvider.postmark:
        return parse_postmark(body, now)
    if provider is FeedProvider.sendgrid:
        return parse_sendgrid(body, now)
    if provider is FeedProvider.mailgun:
        return parse_mailgun(body, now)
    if provider is FeedProvider.standard:
        return parse_standard(body, message_id, now)
    return parse_ses(_json(body), now)
