"""Bulk work on the queue: each request through its own operation, refusals alone, one commit;
and the queue's search by request number, customer email and account name."""

import pytest
import sqlalchemy as sa

from requests_queue.errors import Conflict, InvalidTransition, NotFound, ValidationError
from requests_queue.models import ConsentRequest, RequestEvent, RequestEventKind, RequestState
from requests_queue.requests.agent_queue import QueueFilter, queue_page
from requests_queue.requests.bulk import MAX_SELECTED, apply_each, selected_ids
from requests_queue.requests.lifecycle import add_internal_note, claim_request, withdraw_request
from tests.conftest import NOW, actor_of


def _events(session, req, kind):
    return session.scalars(
        sa.select(RequestEvent).where(RequestEvent.request_id == req.id, RequestEvent.kind == kind)
    ).all()


def test_bulk_claim_claims_each_and_reports_each_refusal(
    session, customer, agent, manager, file_opt_in
):
    free, taken, gone, also_free = (file_opt_in(customer, n=1, prefix=p) for p in "abcd")
    claim_request(session, taken, actor_of(manager), NOW)
    withdraw_request(session, gone, actor_of(customer), NOW)
    session.commit()
    ids = [free.id, taken.id, gone.id, also_free.id, 999_999]
    me = actor_of(agent)
    result = apply_each(session, ids, lambda req: claim_request(session, req, me, NOW))
    session.commit()
    assert [r.number for r in result.done] == [free.number, also_free.number]
    refused = {number: (type(exc), str(exc)) for number, exc in result.refused}
    assert refused == {
        taken.number: (Conflict, f"manager@support.example claimed {taken.number} first"),
        gone.number: (InvalidTransition, "cannot claim a request that is withdrawn"),
        "R-999999": (NotFound, "R-999999 does not exist"),
    }
    session.expire_all()
    for req in (free, also_free):  # the same event the single claim writes, one each
        row = session.get(ConsentRequest, req.id)
        assert (row.state, row.assignee_id) == (RequestState.in_review, agent.id)
        (event,) = _events(session, req, RequestEventKind.claimed)
        assert (event.actor_user_id, event.assignee_id) == (agent.id, agent.id)
    assert session.get(ConsentRequest, taken.id).assignee_id == manager.id
    assert _events(session, taken, RequestEventKind.claimed)[0].actor_user_id == manager.id


def test_a_refusal_leaves_nothing_of_itself_behind(session, customer, agent, file_opt_in):
    """A note refused half-way (an empty text) adds no event; the others' notes stay."""
    first, second = file_opt_in(customer, n=1, prefix="a"), file_opt_in(customer, n=1, prefix="b")
    texts = {first.id: "Called the customer", second.id: "   "}
    me = actor_of(agent)
    result = apply_each(
        session,
        [first.id, second.id],
        lambda req: add_internal_note(session, req, texts[req.id], me, NOW),
    )
    session.commit()
    assert [r.id for r in result.done] == [first.id]
    assert [n for n, _ in result.refused] == [second.number]
    assert [e.body for e in _events(session, first, RequestEventKind.note)] == [
        "Called the customer"
    ]
    assert _events(session, second, RequestEventKind.note) == []


@pytest.mark.parametrize(
    "raw, says",
    [
        ([], "select at least one request"),
        (["1", "x"], "the selection holds something that is not a request"),
        (["0"], "the selection holds something that is not a request"),
        (["²"], "the selection holds something that is not a request"),
        ([str(i) for i in range(1, MAX_SELECTED + 2)], "select at most 100 requests at a time"),
    ],
)
def test_raises_on_a_selection_that_is_empty_odd_or_too_large(raw, says):
    with pytest.raises(ValidationError) as exc:
        selected_ids(raw)
    assert exc.value.field == "selected" and exc.value.reason.startswith(says)


def test_a_selection_keeps_its_order_once_per_request():
    assert selected_ids(["3", "1", "3"]) == [3, 1]
    assert len(selected_ids([str(i) for i in range(1, MAX_SELECTED + 1)])) == MAX_SELECTED


def _found(session, text):
    page = queue_page(session, QueueFilter(search=text))
    return [r.id for r in page.rows], page.counts.total


def test_queue_search_by_number_email_and_account_name(
    session, customer, other_customer, make_user, file_opt_in
):
    acme = file_opt_in(customer, n=1, prefix="a")
    globex = file_opt_in(other_customer, n=1, prefix="g")
    colleague = make_user("billing@globex-corp.example", customer.role, other_customer.account)
    assert colleague.account_id == globex.account_id
    assert _found(session, globex.number) == ([globex.id], 1)
    assert _found(session, f"r{globex.id}") == ([globex.id], 1)
    assert _found(session, str(acme.id)) == ([acme.id], 1)
    assert _found(session, "OWNER@ACME") == ([acme.id], 1)  # part of an email, any case
    assert _found(session, "billing@") == ([globex.id], 1)  # any user of the account
    assert _found(session, "glob") == ([globex.id], 1)  # part of the account's name
    assert _found(session, "example") == ([acme.id, globex.id], 2)
    assert _found(session, "%") == ([], 0)  # LIKE's wildcards are plain characters
    assert _found(session, "R-999999") == ([], 0)
    assert _found(session, "R²") == ([], 0)
    # Numbers no row can have find nothing (PostgreSQL refused to compare them: a 500).
    assert _found(session, "R-2147483648") == ([], 0)
    assert _found(session, "9" * 5000) == ([], 0)
    assert _found(session, "0" * 5000 + str(acme.id)) == ([acme.id], 1)
    page = queue_page(session, QueueFilter(search="acme"))
    assert page.counts.account == {customer.account_id: 1}  # the facets count the found only
