"""Demo data for `make run`: two accounts, four users, ~200 contacts over every status, and
the shared saved replies an agent picks on the review page."""

import random
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.contacts import get_or_create_tags
from requests_queue.mass_actions import Direction, mass_opt_out, preview
from requests_queue.models import (
    Account,
    Contact,
    EmailField,
    ImportBatch,
    ReplyPurpose,
    Role,
    User,
)
from requests_queue.now import now_utc
from requests_queue.requests.saved_replies import ReplyInput, create_reply
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import add_address, change_status
from requests_queue.statuses import (
    MARKETABLE,
    Actor,
    ActorKind,
    Cause,
    EmailStatus,
    Offer,
    is_eligible,
    status_for_permission,
)

from .auth.passwords import hash_password
from .demo_requests import seed_requests

DEMO_PASSWORD = "demo1234"
DEMO_USERS = [
    ("customer@demo.test", Role.customer, "Demo Co"),
    ("other@demo.test", Role.customer, "Other Co"),
    ("agent@demo.test", Role.agent, None),
    ("manager@demo.test", Role.manager, None),
]
FIRST = ["Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena"]
LAST = ["Baker", "Chen", "Diaz", "Evans", "Fox", "Garcia", "Hill", "Ito", "Jones", "Khan", "Lopez"]
# Status a demo contact's first address ends in, and how the demo gets it there.
PLAN = [
    (EmailStatus.non_marketable, 60),
    (EmailStatus.single_opt_in, 60),
    (EmailStatus.double_opt_in, 20),
    (EmailStatus.opted_out_by_recipient, 15),
    (EmailStatus.opted_out_by_user, 15),
    (EmailStatus.spam_complaint, 10),
    (EmailStatus.hard_bounce, 10),
    (EmailStatus.invalid, 10),
]
# Shared saved replies (a manager curates them; every agent picks them on the review page).
REPLIES = [
    ReplyInput(
        "Ask for the sign-up form link",
        "Hello {customer_name},\n\n"
        "Thank you for request {request_number}. To check how these contacts gave permission, "
        "could you send a link to each sign-up form they used, showing the consent checkbox "
        "as it looked when they signed up? A screenshot helps if the form has changed since.\n\n"
        "We expect to decide by {expected_by}.",
        ReplyPurpose.question,
        shared=True,
    ),
    ReplyInput(
        "Ask when the list was last mailed",
        "Hello {customer_name},\n\n"
        "About request {request_number}: when did you last send an email to this list, and "
        "from which service? If it has not been mailed for over a year, please tell us how "
        "you will reconfirm that these people still want to hear from you.",
        ReplyPurpose.question,
        shared=True,
    ),
    ReplyInput(
        "Reject: purchased or rented list",
        "Hello {customer_name},\n\n"
        "We cannot opt in the contacts of request {request_number}: the list looks purchased, "
        "rented, shared or harvested, and marketing email may only go to people who gave "
        "your company permission themselves. If some of these contacts signed up with you "
        "directly, please file a new request for just them, with links to the sign-up forms.",
        ReplyPurpose.rejection,
        shared=True,
    ),
]


def seed(session: Session, with_requests: bool = True) -> bool:
    """Create the demo data unless it exists; return whether anything was created.

    `with_requests=False` leaves the queue empty, for tests that build their own requests.
    """
    if session.scalar(sa.select(Account.id).where(Account.name == "Demo Co")):
        return False
    accounts = {name: Account(name=name) for name in ("Demo Co", "Other Co")}
    session.add_all(accounts.values())
    pw = hash_password(DEMO_PASSWORD)
    users = {}
    for email, role, account in DEMO_USERS:
        users[email] = User(
            email=email,
            role=role,
            password_hash=pw,
            account=accounts.get(account),
            name=email.split("@")[0].capitalize(),
        )
    session.add_all(users.values())
    session.flush()
    _contacts(session, accounts["Demo Co"], users["customer@demo.test"])
    _contacts(session, accounts["Other Co"], users["other@demo.test"], count=12)
    manager = Actor(ActorKind.manager, users["manager@demo.test"].id)
    for reply in REPLIES:
        create_reply(session, reply, manager, now_utc() - timedelta(days=30))
    if with_requests:
        seed_requests(session, now_utc())
    return True


def _contacts(session: Session, account: Account, user: User, count: int = 200) -> None:
    rng = random.Random(account.name)
    now = now_utc() - timedelta(days=30)
    customer = Actor(ActorKind.customer, user.id)
    batches = [
        ImportBatch(
            account_id=account.id,
            user_id=user.id,
            filename=name,
            permission_confirmed=perm,
            created_at=now,
            started_at=now,
            finished_at=now,
            rows_read=0,
            created_count=0,
        )
        for name, perm in (("old-esp-export.csv", False), ("webinar-signups.csv", True))
    ]
    session.add_all(batches)
    session.flush()
    tags = get_or_create_tags(session, account.id, ("Newsletter", "Webinar 2026"))
    statuses = [s for s, n in PLAN for _ in range(n)][:count]
    slug = account.name.split()[0].lower()
    for i, final in enumerate(statuses):
        batch = batches[1] if final in MARKETABLE else batches[i % 2]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        contact = Contact(
            account_id=account.id,
            first_name=first,
            last_name=last,
            first_name_key=first.lower(),
            last_name_key=last.lower(),
            import_batch_id=batch.id,
            created_at=now,
            tags=[tags[i % 2]] if i % 3 else list(tags),
        )
        session.add(contact)
        session.flush()
        start = status_for_permission(batch.permission_confirmed)
        cause = Cause(import_batch_id=batch.id)
        addr = add_address(
            session,
            contact,
            EmailField.email,
            f"{first}.{last}.{i}@{slug}.example".lower(),
            start,
            customer,
            now,
            cause,
        )
        if i % 4 == 0:
            add_address(
                session,
                contact,
                EmailField.email2,
                f"{first}{i}@mail.{slug}.example".lower(),
                start,
                customer,
                now,
                cause,
            )
        _walk_to(session, addr, final, customer, now + timedelta(days=1 + i % 20))
        # The batch's figures say what it brought in, as a real run's would.
        batch.rows_read += 1
        batch.created_count += 1
    # One past mass opt-out, so an undo request can be demonstrated.
    flt = ContactFilter(account_id=account.id, tag_id=tags[1].id, search="hill")
    fields = (EmailField.email,)
    n = preview(session, flt, fields, Direction.opt_out).changing
    if n:
        mass_opt_out(session, flt, fields, customer, now_utc() - timedelta(days=3), n)


def _walk_to(session, addr, final, customer, when) -> None:
    """Move a demo address to its final status the way real life would."""
    recipient, system = Actor(ActorKind.recipient), Actor(ActorKind.system)
    steps = {
        EmailStatus.double_opt_in: [(EmailStatus.double_opt_in, recipient)],
        EmailStatus.opted_out_by_recipient: [(EmailStatus.opted_out_by_recipient, recipient)],
        EmailStatus.opted_out_by_user: [(EmailStatus.opted_out_by_user, customer)],
        EmailStatus.spam_complaint: [(EmailStatus.spam_complaint, system)],
        EmailStatus.hard_bounce: [(EmailStatus.hard_bounce, system)],
        EmailStatus.invalid: [(EmailStatus.invalid, system)],
    }.get(final, [])
    for to, actor in steps:
        if to is EmailStatus.double_opt_in and not is_eligible(Offer.double_opt_in, addr.status):
            continue
        change_status(session, addr, to, actor, when)
