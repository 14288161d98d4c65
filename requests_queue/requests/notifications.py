"""The emails a request sends, queued in the outbox in the caller's transaction.

Plain text. Links are built from the public base URL the caller passes in (the web app
reads it from its configuration), so the domain never needs Flask to make a URL.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..calendar_store import load_calendar
from ..models import ConsentRequest, RequestState, Role, User
from ..outbox import queue_email
from ..time_zones import instant_text, reader_zone
from .window import request_window

SIGNATURE = "\n\n— Consent Desk support\n"


def customer_link(base_url: str, request_id: int) -> str:
    """The customer's page of a request."""
    return f"{base_url.rstrip('/')}/requests/{request_id}"


def desk_link(base_url: str, request_id: int) -> str:
    """The agent desk's review page of a request."""
    return f"{base_url.rstrip('/')}/desk/requests/{request_id}"


def _to_customer(
    session: Session, req: ConsentRequest, kind: str, subject: str, text: str, now: datetime
) -> None:
    filer = session.get(User, req.filed_by_id)
    queue_email(
        session,
        to=filer.email,
        subject=subject,
        text=text + SIGNATURE,
        now=now,
        kind=kind,
        account_id=req.account_id,
        request_id=req.id,
        user_id=filer.id,
    )


def _what(req: ConsentRequest) -> str:
    n = f"{req.address_count:,} address{'es' if req.address_count != 1 else ''}"
    if req.mass_action_id:
        return f"undo of mass opt-out #{req.mass_action_id} ({n})"
    return f"mass opt-in of {n}"


def notify_filed(session: Session, req: ConsentRequest, now: datetime, base_url: str) -> None:
    """Tell the customer the request arrived and when to expect a decision, in their zone
    (the team's time added where it reads differently, as their pages show it)."""
    calendar = load_calendar(session)
    window = request_window(calendar, req, now)
    zone = reader_zone(session.get(User, req.filed_by_id), calendar.zone)

    def when(instant: datetime) -> str:
        return instant_text(instant, zone, "long", team=calendar.zone)

    text = (
        f"We received your request {req.number}: {_what(req)}.\n\n"
        "Support reviews requests within 3–5 business days: "
        f"expected by {when(window.expected_by)} (3 business days), "
        f"at the latest {when(window.latest)} (5 business days).\n"
        "We will email you if we need more information, and when we decide; the time we wait "
        "for your answer does not count.\n\n"
        f"Follow it here: {customer_link(base_url, req.id)}"
    )
    _to_customer(session, req, "request_filed", f"{req.number} received: {_what(req)}", text, now)


def notify_question(
    session: Session, req: ConsentRequest, question: str, now: datetime, base_url: str
) -> None:
    """Tell the customer support needs more information, with the question."""
    text = (
        f"Support needs more information about your request {req.number} ({_what(req)}).\n\n"
        f"The question:\n\n{question}\n\n"
        f"Answer on the request's page: {customer_link(base_url, req.id)}\n"
        "The review continues as soon as you answer."
    )
    _to_customer(
        session, req, "request_question", f"{req.number}: support has a question", text, now
    )


def notify_closing_soon(
    session: Session, req: ConsentRequest, now: datetime, base_url: str
) -> None:
    """Remind the customer that an unanswered question will close the request."""
    text = (
        f"Your request {req.number} ({_what(req)}) is still waiting for your answer.\n"
        "If we do not hear from you, the request will be closed without a decision.\n\n"
        f"Answer here: {customer_link(base_url, req.id)}"
    )
    _to_customer(
        session, req, "request_reminder", f"{req.number}: waiting for your answer", text, now
    )


def notify_decision(session: Session, req: ConsentRequest, now: datetime, base_url: str) -> None:
    """Tell the customer the outcome: approved with counts, rejected with why, or closed."""
    link = customer_link(base_url, req.id)
    if req.state is RequestState.approved:
        subject = f"{req.number} approved"
        lines = [f"Support approved your request {req.number} ({_what(req)}).", ""]
        lines.append(f"Addresses changed: {req.changed_count:,}")
        if req.skipped_count:
            lines.append(
                f"Addresses skipped because their status changed since you filed: "
                f"{req.skipped_count:,}"
            )
            lines += [f"  - {reason}: {n:,}" for reason, n in req.skipped_by_reason.items()]
        text = "\n".join(lines) + f"\n\nDetails: {link}"
    elif req.state is RequestState.rejected:
        subject = f"{req.number} rejected"
        text = (
            f"Support rejected your request {req.number} ({_what(req)}).\n\n"
            f"Reason: {req.reject_reason.title}\n\n{req.decision_message}\n\n"
            f"Nothing was changed. Details: {link}"
        )
    else:
        subject = f"{req.number} closed without an answer"
        text = (
            f"Your request {req.number} ({_what(req)}) was closed because the question from "
            f"support was not answered. Nothing was changed. You can file a new request.\n\n{link}"
        )
    _to_customer(session, req, f"request_{req.state.value}", subject, text, now)


def notify_answer(
    session: Session, req: ConsentRequest, answer: str, now: datetime, base_url: str
) -> None:
    """Tell the assigned agent (or every agent when nobody has it) that the customer answered."""
    if req.assignee_id is not None:
        recipients = [session.get(User, req.assignee_id)]
    else:
        recipients = session.scalars(
            sa.select(User).where(User.role == Role.agent, User.is_active.is_(True))
        ).all()
    text = (
        f"The customer answered on {req.number} ({req.account.name}: {_what(req)}).\n\n"
        f"{answer}\n\nThe request is back in review: {desk_link(base_url, req.id)}"
    )
    for user in recipients:
        queue_email(
            session,
            to=user.email,
            subject=f"{req.number}: the customer answered",
            text=text + SIGNATURE,
            now=now,
            kind="request_answered",
            account_id=req.account_id,
            request_id=req.id,
            user_id=user.id,
        )
