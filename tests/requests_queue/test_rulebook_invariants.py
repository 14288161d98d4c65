"""The stateful test's invariants see a broken rule: each case breaks one rule of DOMAIN.md by
writing to the database behind the domain's back, and the checks must name it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from requests_queue.models import EmailAddress, ImportBatch, StatusEvent
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.lifecycle import claim_request
from requests_queue.statuses import ActorKind, EmailStatus
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of
from tests.requests_queue import rulebook_invariants as rules

S = EmailStatus
K = ActorKind


def _address(session, text: str) -> EmailAddress:
    return session.scalar(sa.select(EmailAddress).where(EmailAddress.address == text))


def _append(session, address: EmailAddress, to: EmailStatus, kind: ActorKind, **cause) -> None:
    """Write a status change as buggy code would: an event and the status, no rule asked."""
    session.add(
        StatusEvent(
            account_id=address.account_id,
            address_id=address.id,
            from_status=address.status,
            to_status=to,
            created_at=NOW,
            actor_kind=kind,
            **cause,
        )
    )
    address.status = to
    session.commit()


def _status_without_event(session, customer, ada):
    session.execute(sa.update(EmailAddress).values(status=S.opted_out_by_user))


def _marketable_by_the_system(session, customer, ada):
    _append(session, ada, S.single_opt_in, K.system)


def _recipient_opt_out_reversed_by_the_customer(session, customer, ada):
    _append(session, ada, S.opted_out_by_recipient, K.recipient)
    _append(session, ada, S.opted_out_by_user, K.customer, actor_user_id=customer.id)


def _customer_opt_out_reversed_by_a_click(session, customer, ada):
    _append(session, ada, S.opted_out_by_user, K.customer, actor_user_id=customer.id)
    _append(session, ada, S.double_opt_in, K.recipient)


def _change_after_a_hard_bounce(session, customer, ada):
    _append(session, ada, S.hard_bounce, K.system)
    _append(session, ada, S.opted_out_by_recipient, K.recipient)


def _import_without_permission_made_marketable(session, customer, ada):
    batch = ImportBatch(
        account_id=customer.account_id, user_id=customer.id, filename="x.csv",
        permission_confirmed=False, created_at=NOW,
    )  # fmt: skip
    session.add(batch)
    session.flush()
    session.execute(sa.update(StatusEvent).values(import_batch_id=batch.id))


def _one_mailbox_stored_twice(session, customer, ada):
    twin = EmailAddress(
        account_id=customer.account_id, address=" Ada@ACME.example", status=S.invalid
    )
    session.add(twin)
    session.flush()
    session.add(
        StatusEvent(
            account_id=customer.account_id, address_id=twin.id, to_status=S.invalid,
            created_at=NOW, actor_kind=K.system,
        )
    )  # fmt: skip


BROKEN = [
    (_status_without_event, "history says"),
    (_marketable_by_the_system, "neither recipient nor approval"),
    (_recipient_opt_out_reversed_by_the_customer, "overrode the recipient's"),
    (_customer_opt_out_reversed_by_a_click, "without support's approved undo"),
    (_change_after_a_hard_bounce, "after final"),
    (_import_without_permission_made_marketable, "answered 'no permission'"),
    (_one_mailbox_stored_twice, "one mailbox twice"),
]


@pytest.mark.parametrize(("breaks", "named"), BROKEN, ids=[b.__name__[1:] for b, _ in BROKEN])
def test_each_broken_rule_is_named(session, customer, make_contact, breaks, named):
    make_contact(customer, consent=True, email="ada@acme.example")
    rules.check_all(session)  # what the domain wrote holds
    breaks(session, customer, _address(session, "ada@acme.example"))
    session.commit()
    session.expire_all()
    with pytest.raises(AssertionError, match=named):
        rules.check_all(session)


def test_an_approval_applied_twice_is_named(session, customer, agent, file_opt_in):
    req = file_opt_in(customer, n=1)
    claim_request(session, req, actor_of(agent), NOW)
    checklist = [key for key, _ in CHECKLIST]
    approve_request(
        session, req, actor_of(agent), NOW, checklist=checklist, base_url=REQUEST_BASE_URL
    )
    session.commit()
    rules.check_all(session)
    address = _address(session, "p0@acme.example")
    _append(session, address, S.opted_out_by_user, K.customer, actor_user_id=customer.id)
    _append(session, address, S.single_opt_in, K.agent, actor_user_id=agent.id, request_id=req.id)
    with pytest.raises(AssertionError, match=f"R-{req.id} changed this address twice"):
        rules.check_all(session)


def test_an_edited_or_deleted_event_is_named(session, customer, make_contact):
    make_contact(customer, email="ada@acme.example", email2="bo@acme.example")
    before = rules.check_all(session)
    first, second = sorted(before)
    session.execute(sa.update(StatusEvent).where(StatusEvent.id == first).values(note="edited"))
    after = rules.check_all(session)
    with pytest.raises(AssertionError, match=f"#{first} was edited"):
        rules.check_append_only(before, after)
    gone = {i: values for i, values in before.items() if i != second}
    with pytest.raises(AssertionError, match=f"#{second} was deleted"):
        rules.check_append_only(before, gone)
