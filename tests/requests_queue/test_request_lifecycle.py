"""The request state machine: every state × action × role, in the table and on the database."""

import itertools

import pytest
import sqlalchemy as sa

from requests_queue.errors import Conflict, InvalidTransition, NotFound, ValidationError
from requests_queue.models import (
    ConsentRequest,
    OutboxMessage,
    RejectReason,
    RequestEventKind,
    RequestState,
    Role,
)
from requests_queue.requests.access import allowed_actions, can_claim, can_decide, can_reassign
from requests_queue.requests.approval import approve_request, confirm_approval
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.lifecycle import (
    add_internal_note,
    answer_question,
    ask_customer,
    assign_request,
    claim_request,
    close_unanswered,
    reject_request,
    warn_unanswered,
    withdraw_request,
)
from requests_queue.requests.second_review import return_to_review, set_second_review_threshold
from requests_queue.requests.state_machine import Action, NotAllowed, check_action
from requests_queue.requests.timeline import customer_timeline, request_timeline
from requests_queue.statuses import Actor, ActorKind
from tests.conftest import NOW, REQUEST_BASE_URL, actor_of

S = RequestState
C, A, M, R, Y = (
    ActorKind.customer,
    ActorKind.agent,
    ActorKind.manager,
    ActorKind.recipient,
    ActorKind.system,
)
OPEN = (S.submitted, S.in_review, S.pending_second_review, S.awaiting_customer)

# Written out by hand from DOMAIN.md, independently of the module's TABLE:
# (state before, action) -> (state after, who may do it).
EXPECTED = {
    (None, Action.file): (S.submitted, {C}),
    (S.submitted, Action.claim): (S.in_review, {A, M}),
    (S.submitted, Action.assign): (S.in_review, {M, Y}),  # Y: fair assignment's round robin
    (S.in_review, Action.release): (S.submitted, {Y}),  # back to the pool, assignee off shift
    (S.in_review, Action.assign): (S.in_review, {M}),
    (S.awaiting_customer, Action.assign): (S.awaiting_customer, {M}),
    (S.in_review, Action.ask): (S.awaiting_customer, {A, M}),
    (S.awaiting_customer, Action.answer): (S.in_review, {C}),
    (S.awaiting_customer, Action.warn): (S.awaiting_customer, {Y}),
    (S.awaiting_customer, Action.close): (S.closed_no_response, {Y}),
    (S.in_review, Action.approve): (S.approved, {A, M}),
    (S.in_review, Action.reject): (S.rejected, {A, M}),
    (S.in_review, Action.approve_first): (S.pending_second_review, {A, M}),
    (S.pending_second_review, Action.confirm): (S.approved, {A, M}),
    (S.pending_second_review, Action.send_back): (S.in_review, {A, M}),
    **{(s, Action.withdraw): (S.withdrawn, {C}) for s in OPEN},
    **{(s, Action.note): (s, {A, M}) for s in S},
}
EVER_ALLOWED = {
    a: set().union(*(who for (_, act), (_, who) in EXPECTED.items() if act is a)) for a in Action
}


@pytest.mark.parametrize(
    ("state", "action", "kind"), list(itertools.product([None, *S], Action, ActorKind))
)
def test_every_state_action_and_role_is_allowed_or_refused(state, action, kind):
    expected = EXPECTED.get((state, action))
    if expected is not None and kind in expected[1]:
        assert check_action(state, action, kind) is expected[0]
    elif kind not in EVER_ALLOWED[action] or expected is not None:
        # A role never allowed this action, or not in this state (the system assigns only
        # from the pool): the wrong role, rather than the wrong moment.
        with pytest.raises(NotAllowed):
            check_action(state, action, kind)
    else:
        with pytest.raises(InvalidTransition):
            check_action(state, action, kind)


# --- the same pairs through the real operations on the database ---


def _force(session, req, state, assignee):
    session.execute(
        sa.update(ConsentRequest)
        .where(ConsentRequest.id == req.id)
        .values(state=state, assignee_id=None if state is S.submitted else assignee.id)
    )
    session.commit()
    session.expire_all()


def _perform(session, action, req, customer, agent, manager, other_agent):
    """Run `action` as the person who would normally do it."""
    base = {"base_url": REQUEST_BASE_URL}
    checked = {"checklist": [k for k, _ in CHECKLIST], **base}

    def approve_big():
        set_second_review_threshold(session, 0, actor_of(manager), NOW)
        approve_request(session, req, actor_of(agent), NOW, **checked)

    run = {
        Action.claim: lambda: claim_request(session, req, actor_of(other_agent), NOW),
        Action.assign: lambda: assign_request(session, req, other_agent, actor_of(manager), NOW),
        Action.ask: lambda: ask_customer(session, req, "Which form?", actor_of(agent), NOW, **base),
        Action.answer: lambda: answer_question(
            session, req, "The footer form.", actor_of(customer), NOW, **base
        ),
        Action.note: lambda: add_internal_note(session, req, "Looks fine", actor_of(agent), NOW),
        Action.warn: lambda: warn_unanswered(session, req, NOW, **base),
        Action.close: lambda: close_unanswered(session, req, NOW, **base),
        Action.approve: lambda: approve_request(
            session, req, actor_of(agent), NOW, checklist=[k for k, _ in CHECKLIST], **base
        ),
        Action.reject: lambda: reject_request(
            session,
            req,
            RejectReason.insufficient_evidence,
            "Please send the form.",
            actor_of(agent),
            NOW,
            **base,
        ),
        Action.withdraw: lambda: withdraw_request(session, req, actor_of(customer), NOW),
        Action.approve_first: approve_big,
        Action.confirm: lambda: confirm_approval(
            session, req, actor_of(other_agent), NOW, **checked
        ),
        Action.send_back: lambda: return_to_review(
            session, req, "Check the forms again", actor_of(other_agent), NOW
        ),
    }
    run[action]()


# Giving back to the pool has no one-request operation: fair assignment's job releases many
# at once (tests/requests_queue/test_auto_assign.py).
BY_OPERATION = [a for a in Action if a not in (Action.file, Action.release)]


@pytest.mark.parametrize(("state", "action"), list(itertools.product(S, BY_OPERATION)))
def test_every_state_and_action_through_the_operations(
    session, customer, agent, manager, make_user, file_opt_in, state, action
):
    other_agent = make_user("agent2@support.example", Role.agent)
    req = file_opt_in(customer, n=1)
    _force(session, req, state, agent)
    expected = EXPECTED.get((state, action))
    if expected is None:
        # Claiming a claimed request says who has it (Conflict); the rest are invalid moves.
        with pytest.raises((InvalidTransition, Conflict)):
            _perform(session, action, req, customer, agent, manager, other_agent)
        session.rollback()
        assert session.get(ConsentRequest, req.id).state is state
        return
    _perform(session, action, req, customer, agent, manager, other_agent)
    session.commit()
    after = session.get(ConsentRequest, req.id)
    assert after.state is expected[0]
    last = request_timeline(session, req.id)[-1]
    assert (last.from_state, last.to_state) == (state, expected[0])


# --- claiming, assignment and who may act ---


def test_second_agent_claiming_is_told_who_was_first(
    session, customer, agent, make_user, file_opt_in
):
    other = make_user("second@support.example", Role.agent)
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    with pytest.raises(Conflict, match="agent@support.example claimed R-"):
        claim_request(session, req, actor_of(other), NOW)
    session.rollback()
    assert session.get(ConsentRequest, req.id).assignee_id == agent.id


def test_claim_is_a_conditional_update_on_an_unassigned_submitted_row(
    session, customer, agent, make_user, file_opt_in
):
    # Another session assigned it between our read and our write: the UPDATE matches nothing.
    other = make_user("second@support.example", Role.agent)
    req = file_opt_in(customer)
    session.execute(
        sa.update(ConsentRequest).where(ConsentRequest.id == req.id).values(assignee_id=other.id)
    )
    with pytest.raises(Conflict, match="second@support.example claimed"):
        claim_request(session, req, actor_of(agent), NOW)


def test_only_the_assignee_or_a_manager_asks_approves_or_rejects(
    session, customer, agent, manager, make_user, file_opt_in
):
    other = make_user("second@support.example", Role.agent)
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    with pytest.raises(NotAllowed, match="assigned to agent@support.example"):
        ask_customer(session, req, "?", actor_of(other), NOW, base_url=REQUEST_BASE_URL)
    session.rollback()
    ask_customer(session, req, "Which form?", actor_of(manager), NOW, base_url=REQUEST_BASE_URL)
    session.commit()
    assert req.state is S.awaiting_customer


def test_manager_reassigns_and_agents_cannot(
    session, customer, agent, manager, make_user, file_opt_in
):
    other = make_user("second@support.example", Role.agent)
    req = file_opt_in(customer)
    with pytest.raises(NotAllowed):
        assign_request(session, req, other, actor_of(agent), NOW)
    session.rollback()
    assign_request(session, req, agent, actor_of(manager), NOW)
    assign_request(session, req, other, actor_of(manager), NOW)
    session.commit()
    assert (req.state, req.assignee_id) == (S.in_review, other.id)
    with pytest.raises(ValidationError, match="active agent or manager"):
        assign_request(session, req, customer, actor_of(manager), NOW)


def test_customer_of_another_account_cannot_touch_the_request(
    session, customer, other_customer, agent, file_opt_in
):
    req = file_opt_in(customer)
    with pytest.raises(NotFound):
        withdraw_request(session, req, actor_of(other_customer), NOW)
    session.rollback()
    assert session.get(ConsentRequest, req.id).state is S.submitted


def test_customers_cannot_act_as_agents(session, customer, file_opt_in):
    req = file_opt_in(customer)
    with pytest.raises(NotAllowed):
        claim_request(session, req, actor_of(customer), NOW)
    with pytest.raises(NotAllowed):
        add_internal_note(session, req, "mine", actor_of(customer), NOW)


def test_questions_answers_and_notes_need_text(session, customer, agent, file_opt_in):
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    with pytest.raises(ValidationError) as err:
        ask_customer(session, req, "   ", actor_of(agent), NOW, base_url=REQUEST_BASE_URL)
    assert err.value.field == "question"
    with pytest.raises(ValidationError) as err:
        add_internal_note(session, req, "", actor_of(agent), NOW)
    assert err.value.field == "note"


# --- the timeline and the notifications ---


def _mail(session):
    rows = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
    return [(m.to_address, m.kind) for m in rows]


def test_timeline_records_every_step_for_the_sla_clock(session, customer, agent, file_opt_in):
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    add_internal_note(session, req, "Form looks genuine", actor_of(agent), NOW)
    ask_customer(session, req, "Which form?", actor_of(agent), NOW, base_url=REQUEST_BASE_URL)
    answer_question(session, req, "The footer one.", actor_of(customer), NOW, base_url="http://x")
    reject_request(
        session, req, RejectReason.stale_list, "Too old.", actor_of(agent), NOW, base_url="http://x"
    )
    session.commit()
    steps = [(e.kind, e.from_state, e.to_state) for e in request_timeline(session, req.id)]
    assert steps == [
        (RequestEventKind.filed, None, S.submitted),
        (RequestEventKind.claimed, S.submitted, S.in_review),
        (RequestEventKind.note, S.in_review, S.in_review),
        (RequestEventKind.question, S.in_review, S.awaiting_customer),
        (RequestEventKind.answer, S.awaiting_customer, S.in_review),
        (RequestEventKind.rejected, S.in_review, S.rejected),
    ]
    assert req.reject_reason is RejectReason.stale_list and req.decision_message == "Too old."


def test_customer_timeline_never_shows_internal_notes(session, customer, agent, file_opt_in):
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    add_internal_note(session, req, "Secret remark", actor_of(agent), NOW)
    session.commit()
    seen = customer_timeline(session, req.id)
    assert [e.kind for e in seen] == [RequestEventKind.filed, RequestEventKind.claimed]
    assert all("Secret" not in e.body for e in seen)


def test_customer_is_mailed_on_filing_question_and_decision_and_agent_on_answer(
    session, customer, agent, file_opt_in
):
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    ask_customer(session, req, "Which form?", actor_of(agent), NOW, base_url=REQUEST_BASE_URL)
    answer_question(session, req, "Footer.", actor_of(customer), NOW, base_url=REQUEST_BASE_URL)
    approve_request(
        session,
        req,
        actor_of(agent),
        NOW,
        checklist=[k for k, _ in CHECKLIST],
        base_url=REQUEST_BASE_URL,
    )
    session.commit()
    assert _mail(session) == [
        (customer.email, "request_filed"),
        (customer.email, "request_question"),
        (agent.email, "request_answered"),
        (customer.email, "request_approved"),
    ]
    question = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "request_question")
    ).one()
    assert "Which form?" in question.body_text
    assert f"{REQUEST_BASE_URL}/requests/{req.id}" in question.body_text


def test_an_answer_on_an_unassigned_request_goes_to_every_agent(
    session, customer, agent, make_user, file_opt_in
):
    other = make_user("second@support.example", Role.agent)
    req = file_opt_in(customer)
    claim_request(session, req, actor_of(agent), NOW)
    ask_customer(session, req, "Which form?", actor_of(agent), NOW, base_url=REQUEST_BASE_URL)
    session.execute(  # the assignee left the team and was unassigned
        sa.update(ConsentRequest).where(ConsentRequest.id == req.id).values(assignee_id=None)
    )
    answer_question(session, req, "Footer.", actor_of(customer), NOW, base_url=REQUEST_BASE_URL)
    answered = {to for to, kind in _mail(session) if kind == "request_answered"}
    assert answered == {agent.email, other.email}


def test_filing_mail_gives_the_request_number_and_the_decision_window(
    session, customer, file_opt_in
):
    req = file_opt_in(customer)
    mail = session.scalars(sa.select(OutboxMessage)).one()
    assert req.number in mail.subject
    # Filed Friday 2026-11-20 15:00 UTC (08:00 in Phoenix): 3 business days → Wednesday,
    # 5 → Friday (Thanksgiving, the 26th, is a holiday, so the latest is Monday the 30th).
    assert "expected by Tuesday 24 November 2026" in mail.body_text
    assert "at the latest Friday 27 November 2026" in mail.body_text


# --- what a page may offer: asked of the lifecycle, never re-derived by the views ---

# Only the assignee or a manager takes these.
HANDLED = {Action.ask, Action.approve, Action.approve_first, Action.reject}
PEOPLE = {
    "customer": (C, 1),
    "assignee": (A, 7),
    "another agent": (A, 8),
    "manager": (M, 9),
    "system": (Y, None),
}


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("who", list(PEOPLE))
def test_allowed_actions_follow_the_table_and_leave_decisions_to_the_handler(state, who):
    kind, user_id = PEOPLE[who]
    req = ConsentRequest(state=state, assignee_id=None if state is S.submitted else 7)
    expected = {
        action
        for (source, action), (_, kinds) in EXPECTED.items()
        if source is state
        and kind in kinds
        and (action not in HANDLED or who in ("assignee", "manager"))
    }
    actor = Actor(kind, user_id)
    assert allowed_actions(req, actor) == expected
    assert can_claim(req, actor) is (Action.claim in expected)
    assert can_decide(req, actor) is (Action.approve in expected)
    assert can_reassign(req, actor) is (Action.assign in expected)
