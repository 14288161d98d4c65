"""Demo requests for `make run`, so the queue, the review page and the dashboard have work.

Each request is played through the real domain operations with timestamps in the past:
one just filed, one in review, one waiting for the customer, one breached, decided ones.
"""

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.mass_actions import Direction, preview
from requests_queue.models import Account, EmailField, MassAction, RejectReason, Role, User
from requests_queue.requests import lifecycle as ops
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST, EvidenceInput
from requests_queue.requests.filing import file_request
from requests_queue.requests.targets import OptInTarget, UndoTarget
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind

BASE_URL = "http://127.0.0.1:5000"
EVIDENCE = EvidenceInput(
    reason="These people signed up on our website; the old system exported them without the flag.",
    last_sent=date(2026, 9, 30),
    explicit_permission="yes",
    permission_details="Each person ticked an unticked newsletter box on our sign-up form in 2025 "
    "and confirmed by email; we keep the timestamps and IP addresses.",
    form_links=("https://demo.example/newsletter", "https://demo.example/webinar"),
    list_source="website_form",
    attested=True,
)
# (first-name search, days ago filed, what happens after filing)
PLAN = [
    ("ada", 1, []),
    ("ben", 2, ["claim"]),
    ("cleo", 4, ["claim", "ask"]),
    ("dan", 9, ["claim"]),
    ("eva", 12, ["claim", "approve"]),
    ("finn", 15, ["claim", "reject"]),
]


def seed_requests(session: Session, now: datetime) -> None:
    """Play the demo requests of Demo Co (call once, inside the seed transaction)."""
    account = session.scalar(sa.select(Account).where(Account.name == "Demo Co"))
    customer = session.scalar(sa.select(User).where(User.account_id == account.id))
    agent = session.scalar(sa.select(User).where(User.role == Role.agent))
    as_customer = Actor(ActorKind.customer, customer.id)
    as_agent = Actor(ActorKind.agent, agent.id)
    for search, days, steps in PLAN:
        filed = now - timedelta(days=days)
        target = OptInTarget(
            ContactFilter(account.id, search=search), (EmailField.email, EmailField.email2)
        )
        if preview(session, target.flt, target.fields, Direction.opt_in).changing == 0:
            continue
        req = file_request(session, target, EVIDENCE, as_customer, filed, base_url=BASE_URL)
        for i, step in enumerate(steps, start=1):
            when = filed + timedelta(hours=3 * i)
            _play(session, req, step, as_agent, when)
    batch = session.scalar(sa.select(MassAction).where(MassAction.account_id == account.id))
    if batch is not None:
        undo = UndoTarget(account.id, batch.id)
        file_request(
            session, undo, EVIDENCE, as_customer, now - timedelta(hours=5), base_url=BASE_URL
        )


def _play(session: Session, req, step: str, agent: Actor, when: datetime) -> None:
    if step == "claim":
        ops.claim_request(session, req, agent, when)
    elif step == "ask":
        ops.ask_customer(
            session,
            req,
            "Could you send the confirmation email template you used?",
            agent,
            when,
            base_url=BASE_URL,
        )
    elif step == "approve":
        approve_request(
            session, req, agent, when, checklist=[k for k, _ in CHECKLIST], base_url=BASE_URL
        )
    elif step == "reject":
        ops.reject_request(
            session,
            req,
            RejectReason.insufficient_evidence,
            "The form links do not show a consent checkbox.",
            agent,
            when,
            base_url=BASE_URL,
        )
