"""Four-eyes approval: above the threshold one approval applies nothing until another agent
confirms; the rules hold whoever tries to bend them."""

import pytest
import sqlalchemy as sa

from requests_queue.errors import InvalidTransition, ValidationError
from requests_queue.models import (
    ApprovalSettings,
    ConsentRequest,
    EmailAddress,
    RequestEventKind,
    RequestState,
    Role,
    StatusEvent,
)
from requests_queue.requests.access import allowed_actions
from requests_queue.requests.approval import approve_request, confirm_approval
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.lifecycle import claim_request
from requests_queue.requests.second_review import (
    needs_second_review,
    return_to_review,
    second_review_threshold,
    set_second_review_threshold,
    waiting_for_second_review,
)
from requests_queue.requests.state_machine import Action, NotAllowed
from requests_queue.requests.timeline import customer_timeline, request_timeline
from requests_queue.status_changes import change_status
from requests_queue.statuses import Actor, ActorKind, EmailStatus
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of

S = RequestState
ALL = [k for k, _ in CHECKLIST]
URL = {"base_url": REQUEST_BASE_URL}


@pytest.fixture
def second(make_user):
    """Another agent: the second pair of eyes."""
    return make_user("second@support.example", Role.agent)


@pytest.fixture
def big(session, customer, agent, manager, file_opt_in):
    """A claimed request of 3 addresses, with the threshold at 2: it needs a second review."""
    set_second_review_threshold(session, 2, actor_of(manager), NOW)
    req = file_opt_in(customer, n=3)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    return req


def _approve(session, req, user):
    return approve_request(session, req, actor_of(user), NOW, checklist=ALL, **URL)


def _confirm(session, req, user, checklist=ALL):
    return confirm_approval(session, req, actor_of(user), NOW, checklist=checklist, **URL)


def _changes(session, req) -> int:
    return session.scalar(sa.select(sa.func.count()).where(StatusEvent.request_id == req.id))


def _statuses(session, account_id) -> set:
    return set(
        session.scalars(sa.select(EmailAddress.status).where(EmailAddress.account_id == account_id))
    )


def test_the_default_threshold_is_ten_thousand_addresses(session):
    assert session.get(ApprovalSettings, 1) is None
    assert second_review_threshold(session) == 10_000


def test_a_big_approval_waits_for_a_second_review_and_applies_nothing(
    session, customer, agent, big
):
    _approve(session, big, agent)
    session.commit()
    req = session.get(ConsentRequest, big.id)
    assert req.state is S.pending_second_review
    assert (req.first_approved_by_id, req.first_approved_at) == (agent.id, NOW)
    assert (req.decided_at, req.decided_by_id, req.changed_count) == (None, None, 0)
    assert _changes(session, req) == 0
    assert _statuses(session, customer.account_id) == {EmailStatus.non_marketable}
    last = request_timeline(session, req.id)[-1]
    assert (last.kind, last.from_state, last.to_state) == (
        RequestEventKind.first_approval,
        S.in_review,
        S.pending_second_review,
    )
    assert last.is_internal and "3 in the selection, the threshold is 2" in last.body
    # The customer still reads "in review" and sees no desk-internal step.
    assert req.state.customer_title == "In review"
    assert RequestEventKind.first_approval not in {
        e.kind for e in customer_timeline(session, req.id)
    }


def test_a_second_agent_confirms_and_it_is_applied_like_an_approval(
    session, customer, agent, second, big
):
    _approve(session, big, agent)
    _confirm(session, big, second)
    session.commit()
    req = session.get(ConsentRequest, big.id)
    assert (req.state, req.changed_count, req.skipped_count) == (S.approved, 3, 0)
    assert (req.decided_by_id, req.first_approved_by_id) == (second.id, agent.id)
    assert _statuses(session, customer.account_id) == {EmailStatus.single_opt_in}
    events = session.scalars(sa.select(StatusEvent).where(StatusEvent.request_id == req.id)).all()
    assert {(e.actor_kind, e.actor_user_id) for e in events} == {(ActorKind.agent, second.id)}
    last = request_timeline(session, req.id)[-1]
    assert (last.kind, last.from_state, last.to_state) == (
        RequestEventKind.approved,
        S.pending_second_review,
        S.approved,
    )


def test_the_first_approver_cannot_confirm_their_own_approval(session, agent, big):
    _approve(session, big, agent)
    session.commit()
    with pytest.raises(NotAllowed, match="you approved R-\\d+ first"):
        _confirm(session, big, agent)
    session.rollback()
    with pytest.raises(NotAllowed):
        return_to_review(session, big, "Looks wrong", actor_of(agent), NOW)
    session.rollback()
    req = session.get(ConsentRequest, big.id)
    assert req.state is S.pending_second_review and _changes(session, req) == 0
    assert not allowed_actions(req, actor_of(agent)) & {Action.confirm, Action.send_back}


def test_a_manager_who_approved_first_cannot_confirm_either(session, manager, second, big):
    _approve(session, big, manager)
    session.commit()
    with pytest.raises(NotAllowed):
        _confirm(session, big, manager)
    session.rollback()
    _confirm(session, big, second)
    session.commit()
    assert session.get(ConsentRequest, big.id).state is S.approved


def test_nobody_on_the_customer_side_confirms(session, customer, make_user, agent, big):
    colleague = make_user("colleague@acme.example", Role.customer, customer.account)
    _approve(session, big, agent)
    session.commit()
    for user in (customer, colleague):
        with pytest.raises(NotAllowed):
            _confirm(session, big, user)
        session.rollback()
    with pytest.raises(NotAllowed):  # not even by claiming to be support with their user id
        confirm_approval(
            session, big, Actor(ActorKind.agent, customer.id), NOW, checklist=ALL, **URL
        )
    session.rollback()
    assert session.get(ConsentRequest, big.id).state is S.pending_second_review
    assert _changes(session, big) == 0


def test_at_or_below_the_threshold_one_approval_applies_at_once(
    session, customer, agent, manager, file_opt_in
):
    set_second_review_threshold(session, 3, actor_of(manager), NOW)
    req = file_opt_in(customer, n=3)  # 3 is not more than 3
    claim_request(session, req, actor_of(agent), NOW)
    assert not needs_second_review(session, req)
    _approve(session, req, agent)
    session.commit()
    assert (req.state, req.changed_count, req.first_approved_by_id) == (S.approved, 3, None)


def test_threshold_edits_apply_to_the_next_approval_and_waiting_ones_keep_waiting(
    session, customer, other_customer, agent, manager, second, file_opt_in, big
):
    _approve(session, big, agent)
    set_second_review_threshold(session, 100, actor_of(manager), NOW)
    session.commit()
    # Raised above its size, the waiting one still needs the second agent.
    assert session.get(ConsentRequest, big.id).state is S.pending_second_review
    with pytest.raises(InvalidTransition, match="waiting for a second review"):
        _approve(session, big, agent)
    session.rollback()
    # Lowered again, a small request now needs a second review too.
    set_second_review_threshold(session, 1, actor_of(manager), NOW)
    small = file_opt_in(other_customer, n=2, prefix="s")
    claim_request(session, small, actor_of(agent), NOW)
    _approve(session, small, agent)
    session.commit()
    assert small.state is S.pending_second_review
    stored = session.get(ApprovalSettings, 1)
    assert (stored.second_review_threshold, stored.updated_by_id) == (1, manager.id)


@pytest.mark.parametrize(
    ("value", "message"),
    [(-1, "from 0 to"), (100_000_001, "from 0 to"), ("10", "whole number"), (2.5, "whole number")],
)
def test_the_threshold_must_be_a_sensible_whole_number(session, manager, value, message):
    with pytest.raises(ValidationError, match=message) as err:
        set_second_review_threshold(session, value, actor_of(manager), NOW)
    assert err.value.field == "threshold"


def test_confirming_checks_eligibility_again_at_that_moment(session, customer, agent, second, big):
    _approve(session, big, agent)
    session.commit()
    # Between the two approvals the recipient unsubscribes one address.
    address = session.scalar(
        sa.select(EmailAddress).where(EmailAddress.address == "p0@acme.example")
    )
    change_status(
        session, address, EmailStatus.opted_out_by_recipient, Actor(ActorKind.recipient), NOW
    )
    session.commit()
    _confirm(session, big, second)
    session.commit()
    req = session.get(ConsentRequest, big.id)
    assert (req.changed_count, req.skipped_count) == (2, 1)
    assert address.status is EmailStatus.opted_out_by_recipient


def test_confirming_needs_the_whole_checklist(session, agent, second, big):
    _approve(session, big, agent)
    session.commit()
    with pytest.raises(ValidationError) as err:
        _confirm(session, big, second, checklist=ALL[:1])
    assert err.value.field == "checklist"
    session.rollback()
    assert session.get(ConsentRequest, big.id).state is S.pending_second_review


def test_confirming_twice_applies_once(session, agent, second, manager, big):
    _approve(session, big, agent)
    _confirm(session, big, second)
    session.commit()
    with pytest.raises(InvalidTransition, match="already approved"):
        _confirm(session, big, manager)
    session.rollback()
    assert _changes(session, big) == 3


def test_returning_sends_it_back_to_review_with_a_note(session, customer, agent, second, big):
    _approve(session, big, agent)
    session.commit()
    with pytest.raises(ValidationError) as err:
        return_to_review(session, big, "  ", actor_of(second), NOW)
    assert err.value.field == "note"
    session.rollback()
    return_to_review(session, big, "The second form link is a 404.", actor_of(second), NOW)
    session.commit()
    req = session.get(ConsentRequest, big.id)
    assert (req.state, req.assignee_id, req.first_approved_by_id) == (S.in_review, agent.id, None)
    last = request_timeline(session, req.id)[-1]
    assert (last.kind, last.actor_user_id, last.body, last.is_internal) == (
        RequestEventKind.returned,
        second.id,
        "The second form link is a 404.",
        True,
    )
    assert _changes(session, req) == 0
    # Approved again, it waits for a second review again (and the returner may confirm it).
    _approve(session, req, agent)
    _confirm(session, req, second)
    session.commit()
    assert req.state is S.approved


def test_the_customer_may_withdraw_while_it_waits(session, customer, agent, big):
    from requests_queue.requests.lifecycle import withdraw_request

    _approve(session, big, agent)
    withdraw_request(session, big, actor_of(customer), NOW)
    session.commit()
    assert big.state is S.withdrawn and _changes(session, big) == 0


def test_the_waiting_list_names_request_account_size_and_first_approver(
    session, customer, agent, big
):
    assert waiting_for_second_review(session) == (0, [])
    _approve(session, big, agent)
    session.commit()
    total, rows = waiting_for_second_review(session)
    assert total == 1
    assert (rows[0].number, rows[0].account, rows[0].address_count, rows[0].first_approver) == (
        big.number,
        "Acme",
        3,
        "agent@support.example",
    )
