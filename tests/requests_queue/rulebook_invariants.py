"""DOMAIN.md's rules as invariants read from the database, for the stateful rule-book test.

Each check reads the stored rows (never the test's own model of what should have happened) and
raises AssertionError naming the rule, the address and the events that break it.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.models import (
    Account,
    AddressOutcome,
    Campaign,
    ConsentRequest,
    Contact,
    EmailAddress,
    ImportBatch,
    ImportMatch,
    MassAction,
    RequestAddress,
    RequestKind,
    RequestState,
    StatusEvent,
    User,
)
from requests_queue.statuses import MARKETABLE, TERMINAL, ActorKind, EmailStatus

S = EmailStatus
SUPPORT = (ActorKind.agent, ActorKind.manager)
# Every stored column of an event: none of them may ever change (rule 4).
EVENT_COLUMNS = [c.name for c in StatusEvent.__table__.columns]


def mailbox_key(stored: str) -> str:
    """Rule 6's canonical form, computed here independently of the code under test.

    Trimmed, Unicode NFC, lower-cased, the domain IDNA-encoded (the standard library's codec:
    the test pool holds no label where IDNA 2003 and UTS #46 differ).
    """
    text = unicodedata.normalize("NFC", stored.strip())
    local, _, domain = text.rpartition("@")
    with contextlib.suppress(UnicodeError):  # not IDNA at all: compared as it is
        domain = domain.encode("idna").decode("ascii")
    return f"{local.lower()}@{domain.lower()}"


def _show(event) -> str:
    cause = {
        k: getattr(event, k)
        for k in ("import_batch_id", "mass_action_id", "request_id", "campaign_id")
        if getattr(event, k) is not None
    }
    source = event.from_status.value if event.from_status else "NEW"
    return f"#{event.id} {source}->{event.to_status.value} by {event.actor_kind.value} {cause}"


def _story(events: list) -> str:
    return "; ".join(map(_show, events))


def check_all(session: Session) -> dict[int, tuple]:
    """Every invariant below, on one read of the history; return that read as a snapshot."""
    table = StatusEvent.__table__
    events = session.execute(sa.select(table).order_by(table.c.id)).all()
    history: dict[int, list] = defaultdict(list)
    for event in events:
        history[event.address_id].append(event)
    addresses = session.execute(
        sa.select(
            EmailAddress.id, EmailAddress.account_id, EmailAddress.address, EmailAddress.status
        )
    ).all()
    permitted = dict(
        session.execute(sa.select(ImportBatch.id, ImportBatch.permission_confirmed)).all()
    )
    check_status_matches_history(addresses, history)
    check_marketable_is_justified(permitted, history)
    check_opt_outs_and_final_statuses_hold(history)
    check_requests_apply_once(session, history)
    check_four_eyes(session)
    check_imports_never_overwrite(permitted, history)
    check_one_mailbox_one_address(addresses)
    check_references(session)
    return {event.id: tuple(event) for event in events}


def check_references(session: Session) -> None:
    """Rule 4's "naming actor and cause", kept without per-row foreign keys (migration
    c5e1a9d3b702): every event names an address of its own account, and each user, request,
    batch, import and campaign it names exists (of its account, where that has one); every
    frozen address names its request and an address of the request's account; every import
    match (no keys either, migration b7d3e5f1a926) names its batch and a contact of the batch's
    account. The entities' per-operation references (migration d9f2a4c6e813): every contact's
    account exists, and its import batch is of that account; every address's account exists
    and is its contact's."""
    e, a = StatusEvent, EmailAddress
    names = (
        ("a user", e.actor_user_id, User, None),
        ("a request", e.request_id, ConsentRequest, ConsentRequest.account_id),
        ("a mass opt-out", e.mass_action_id, MassAction, MassAction.account_id),
        ("an import", e.import_batch_id, ImportBatch, ImportBatch.account_id),
        ("a campaign", e.campaign_id, Campaign, Campaign.account_id),
    )
    stray = {
        "an address": sa.select(e.id)
        .outerjoin(a, a.id == e.address_id)
        .where(sa.or_(a.id.is_(None), a.account_id != e.account_id))
    }
    for label, column, model, account in names:
        wrong = (
            model.id.is_(None)
            if account is None
            else sa.or_(model.id.is_(None), account != e.account_id)
        )
        stray[label] = (
            sa.select(e.id).outerjoin(model, model.id == column).where(column.is_not(None), wrong)
        )
    # A customer acts only on their own account's addresses.
    stray["a customer"] = (
        sa.select(e.id)
        .join(User, User.id == e.actor_user_id)
        .where(User.account_id.is_not(None), User.account_id != e.account_id)
    )
    for label, query in stray.items():
        ids = session.scalars(query.limit(5)).all()
        assert not ids, f"rule 4: events {ids} name {label} that is missing or of another account"
    _check_entity_references(session)
    ra, im = RequestAddress, ImportMatch
    frozen = _links_astray(session, ConsentRequest, ra.request_id, a, ra.address_id)
    assert not frozen, f"frozen {frozen} name a missing request or another account's address"
    matched = _links_astray(session, ImportBatch, im.batch_id, Contact, im.contact_id)
    assert not matched, f"import matches {matched} name a missing batch or another's contact"


def _links_astray(session: Session, owner, owner_id, item, item_id) -> list[tuple]:
    """Rows (at most 5) of a link table (a request's frozen addresses, an import's matched
    contacts) whose owner is missing, or whose item is missing or of another account."""
    return session.execute(
        sa.select(owner_id, item_id)
        .outerjoin(owner, owner.id == owner_id)
        .outerjoin(item, item.id == item_id)
        .where(sa.or_(owner.id.is_(None), item.id.is_(None), item.account_id != owner.account_id))
        .limit(5)
    ).all()


def _check_entity_references(session: Session) -> None:
    """Every contact's account exists and its import batch is of that account; every
    address's account exists and is its contact's (no keys, migration d9f2a4c6e813)."""
    a, b, c = EmailAddress, ImportBatch, Contact

    def missing(account_id):
        return ~sa.select(Account.id).where(Account.id == account_id).exists()

    contacts = session.scalars(
        sa.select(c.id)
        .outerjoin(b, b.id == c.import_batch_id)
        .where(
            sa.or_(
                missing(c.account_id),
                sa.and_(
                    c.import_batch_id.is_not(None),
                    sa.or_(b.id.is_(None), b.account_id != c.account_id),
                ),
            )
        )
        .limit(5)
    ).all()
    assert not contacts, f"contacts {contacts} name a missing account or another's import"
    addresses = session.scalars(
        sa.select(a.id)
        .outerjoin(c, c.id == a.contact_id)
        .where(sa.or_(missing(a.account_id), c.account_id != a.account_id))
        .limit(5)
    ).all()
    assert not addresses, f"addresses {addresses} name a missing account or another's contact"


def check_status_matches_history(addresses, history: dict[int, list]) -> None:
    """(a) status = the latest event's to_status; the first event creates; each continues."""
    for address_id, _account, address, status in addresses:
        events = history.get(address_id, [])
        assert events, f"{address} ({status.value}) has no status event at all"
        assert events[0].from_status is None, f"{address}: first event {_show(events[0])}"
        assert events[-1].to_status is status, (
            f"{address} is {status.value} but its history says {_story(events)}"
        )
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_status is before.to_status, (
                f"{address}: {_show(after)} does not continue {_show(before)}"
            )


def check_marketable_is_justified(permitted: dict[int, bool], history: dict[int, list]) -> None:
    """(b) Rule 1: each event to a marketable status is a recipient's action, a creation with
    permission recorded, or the applied change of an approved request that covered it."""
    for events in history.values():
        for event in events:
            if event.to_status not in MARKETABLE or event.actor_kind is ActorKind.recipient:
                continue
            if event.request_id is not None:
                continue  # check_requests_apply_once judges every request's events
            created = (
                event.from_status is None
                and event.actor_kind is ActorKind.customer
                and event.to_status is S.single_opt_in
                and event.mass_action_id is None
            )
            assert created, f"made marketable by neither recipient nor approval: {_story(events)}"
            if event.import_batch_id is not None:
                assert permitted[event.import_batch_id], (
                    f"an import answered 'no permission' made single opt-in: {_story(events)}"
                )


def check_opt_outs_and_final_statuses_hold(history: dict[int, list]) -> None:
    """(c) Rule 2 and the status table: nothing leaves a final status; only the recipient
    brings back their own opt-out; a customer's opt-out is left only through support's
    approved undo (judged with the request), the recipient's unsubscribe or a final fact."""
    for events in history.values():
        for event in events:
            problem = _leaving_problem(event)
            assert problem is None, f"{_show(event)} {problem}: {_story(events)}"


def _leaving_problem(event) -> str | None:
    source, to, kind = event.from_status, event.to_status, event.actor_kind
    if source in TERMINAL:
        return f"came after final {source.value}"
    if kind is ActorKind.system and to in TERMINAL:
        return None
    resubscribed = kind is ActorKind.recipient and to in MARKETABLE
    if source is S.opted_out_by_recipient and not resubscribed:
        return "overrode the recipient's opt-out"
    if source is S.opted_out_by_user:
        unsubscribed = kind is ActorKind.recipient and to is S.opted_out_by_recipient
        undone = kind in SUPPORT and event.request_id is not None
        if not (unsubscribed or undone):
            return "reversed the customer's opt-out without support's approved undo"
    return None


def check_four_eyes(session: Session) -> None:
    """Issue 15: a request that waited for a second review was applied by someone else than
    its first approver; one waiting now has no decision yet."""
    r = ConsentRequest
    rows = session.execute(
        sa.select(r.id, r.state, r.first_approved_by_id, r.decided_by_id).where(
            r.first_approved_by_id.is_not(None)
        )
    ).all()
    for request_id, state, first, decided_by in rows:
        if state is RequestState.approved:
            assert decided_by != first, f"R-{request_id} was confirmed by its first approver"
        elif state is RequestState.pending_second_review:
            assert decided_by is None, f"R-{request_id} waits for a second review, yet decided"
        else:
            assert state is RequestState.withdrawn, f"R-{request_id} kept a first approver"


def check_requests_apply_once(session: Session, history: dict[int, list]) -> None:
    """(d) and rule 5: a mass opt-out records each address's prior status as its event says; a
    request's events exist only once it is approved, by its approver, at most one per address,
    only for addresses of its frozen selection marked changed, and an undo restores exactly the
    prior status of an address still opted out by its batch."""
    r = ConsentRequest
    requests = {
        row.id: row
        for row in session.execute(
            sa.select(
                r.id,
                r.state,
                r.kind,
                r.account_id,
                r.decided_by_id,
                r.mass_action_id,
                r.changed_count,
            )
        )
    }
    frozen = {
        (row.request_id, row.address_id): row
        for row in session.execute(
            sa.select(
                RequestAddress.request_id,
                RequestAddress.address_id,
                RequestAddress.outcome,
                RequestAddress.prior_status,
            )
        )
    }
    # A mass opt-out's snapshot for an undo is its events' from_status: well defined only if
    # it changed each address once.
    prior: dict[tuple[int, int], object] = {}
    for events in history.values():
        for e in events:
            if e.mass_action_id is not None:
                key = (e.mass_action_id, e.address_id)
                assert key not in prior, f"mass opt-out {key[0]} changed address {key[1]} twice"
                prior[key] = e.from_status
    applied: dict[int, int] = defaultdict(int)
    for events in history.values():
        seen: set[int] = set()
        for before, event in zip([None, *events], events, strict=False):
            if event.request_id is not None:
                req = requests[event.request_id]
                problem = _request_event_problem(req, before, event, seen, frozen, prior)
                assert problem is None, f"R-{req.id} {problem}: {_story(events)}"
                seen.add(req.id)
                applied[req.id] += 1
    for req in requests.values():
        if req.state is RequestState.approved:
            assert req.changed_count == applied[req.id], (
                f"R-{req.id} reports {req.changed_count} changes, the history {applied[req.id]}"
            )


def _request_event_problem(req, before, event, seen, frozen, prior) -> str | None:
    """What is wrong with one status event a request caused, or None."""
    row = frozen.get((req.id, event.address_id))
    if req.id in seen:
        return "changed this address twice"
    if req.state is not RequestState.approved:
        return f"is {req.state.value}, yet changed a status"
    if event.actor_kind not in SUPPORT or event.actor_user_id != req.decided_by_id:
        return "changed a status by someone else than its approver"
    if event.account_id != req.account_id:
        return "changed an address of another account"
    if row is None or row.outcome is not AddressOutcome.changed:
        return "changed an address outside its frozen selection (or one marked skipped)"
    if req.kind is RequestKind.mass_opt_in:
        if (event.from_status, event.to_status) != (S.non_marketable, S.single_opt_in):
            return "made a change a mass opt-in never makes"
        return None
    restores = prior.get((req.mass_action_id, event.address_id))
    moved = (event.from_status, event.to_status, row.prior_status)
    if moved != (S.opted_out_by_user, restores, restores):
        return f"did not restore the status its batch recorded ({restores})"
    if before is None or before.mass_action_id != req.mass_action_id:
        return f"undid batch {req.mass_action_id} for an address a later change had moved"
    return None


def check_imports_never_overwrite(permitted: dict[int, bool], history: dict[int, list]) -> None:
    """Rule 3: an import only creates addresses, with the status its permission answer allows."""
    for events in history.values():
        for event in events:
            if event.import_batch_id is None:
                continue
            allowed = S.single_opt_in if permitted[event.import_batch_id] else S.non_marketable
            assert event.from_status is None and event.to_status is allowed, (
                f"import {event.import_batch_id} wrote {_show(event)}: {_story(events)}"
            )


def check_one_mailbox_one_address(addresses) -> None:
    """(f) Rule 6: within an account, no two address rows are one mailbox."""
    seen: dict[tuple[int, str], str] = {}
    for _id, account_id, address, status in addresses:
        key = (account_id, mailbox_key(address))
        assert key not in seen, (
            f"account {account_id} holds one mailbox twice: {seen[key]!r} and "
            f"{address!r} ({status.value}); rule 6 says they are one address"
        )
        seen[key] = address


def check_append_only(before: dict[int, tuple], after: dict[int, tuple]) -> None:
    """(e) Rule 4: earlier events are all still there, unchanged; new ones come after them."""
    for event_id, values in before.items():
        assert event_id in after, f"status event #{event_id} was deleted"
        assert after[event_id] == values, (
            f"status event #{event_id} was edited: {dict(zip(EVENT_COLUMNS, values, strict=False))}"
            f" became {dict(zip(EVENT_COLUMNS, after[event_id], strict=False))}"
        )
    newest = max(before, default=0)
    added = [i for i in after if i not in before]
    assert all(i > newest for i in added), f"events {added} inserted before #{newest}"
