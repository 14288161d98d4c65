"""The agent queue: open requests only, by deadline, filters with faceted counts, pages."""

from datetime import timedelta

import pytest

from requests_queue.models import (
    ConsentRequest,
    ListSource,
    MassAction,
    MassActionKind,
    RequestKind,
    RequestState,
)
from requests_queue.requests.agent_queue import QueueFilter, QueueOrder, account_history, queue_page
from tests.conftest import NOW

S = RequestState
K = RequestKind


@pytest.fixture
def queue(session, customer, other_customer, agent, manager):
    """Nine requests over two accounts: seven open, two decided, filed an hour apart."""
    batch = MassAction(
        account_id=other_customer.account_id,
        user_id=other_customer.id,
        kind=MassActionKind.opt_out,
        selection="all",
        fields="email",
    )
    session.add(batch)
    session.flush()
    plan = [  # (customer, kind, state, assignee)
        (customer, K.mass_opt_in, S.submitted, None),
        (other_customer, K.undo_opt_out, S.in_review, agent),
        (customer, K.mass_opt_in, S.approved, agent),
        (customer, K.mass_opt_in, S.awaiting_customer, agent),
        (other_customer, K.mass_opt_in, S.submitted, None),
        (customer, K.mass_opt_in, S.in_review, manager),
        (other_customer, K.undo_opt_out, S.withdrawn, None),
        (customer, K.mass_opt_in, S.submitted, None),
        (other_customer, K.mass_opt_in, S.in_review, agent),
    ]
    rows = []
    for i, (user, kind, state, assignee) in enumerate(plan):
        row = ConsentRequest(
            account_id=user.account_id,
            kind=kind,
            state=state,
            filed_by_id=user.id,
            filed_at=NOW - timedelta(hours=10 - i),
            assignee_id=assignee.id if assignee else None,
            mass_action_id=batch.id if kind is K.undo_opt_out else None,
            selection="all contacts",
            fields="email",
            reason="r" * 30,
            never_sent=True,
            permission_details="d" * 50,
            form_links=["https://x.example"],
            list_source=ListSource.other,
        )
        session.add(row)
        rows.append(row)
    session.commit()
    return rows


def _ids(page):
    return [r.id for r in page.rows]


def _open(queue, *indexes):
    return [queue[i].id for i in indexes]


# Deadline order: running requests soonest deadline first (filed an hour apart, never waited:
# by filing), then the one waiting for the customer, whose clock stands still.
BY_DEADLINE = (0, 1, 4, 5, 7, 8, 3)


def test_lists_open_requests_by_deadline_with_the_paused_last(session, queue):
    page = queue_page(session, QueueFilter())
    assert _ids(page) == _open(queue, *BY_DEADLINE)
    assert page.counts.total == 7
    assert page.counts.state == {S.submitted: 3, S.in_review: 3, S.awaiting_customer: 1}


def test_a_request_that_waited_sorts_by_its_clock_base(session, queue):
    queue[0].clock_base_at = NOW + timedelta(hours=1)  # its clock lost a day waiting
    session.commit()
    assert _ids(queue_page(session, QueueFilter())) == _open(queue, 1, 4, 5, 7, 8, 0, 3)


def test_oldest_and_newest_first_on_request(session, queue):
    oldest = queue_page(session, QueueFilter(order=QueueOrder.oldest))
    newest = queue_page(session, QueueFilter(order=QueueOrder.newest))
    assert _ids(oldest) == [r.id for r in queue if r.state.is_open]
    assert _ids(newest) == [r.id for r in reversed(queue) if r.state.is_open]


def test_pages_through_the_queue(session, queue):
    first = queue_page(session, QueueFilter(), page=1, per_page=3)
    third = queue_page(session, QueueFilter(), page=3, per_page=3)
    beyond = queue_page(session, QueueFilter(), page=99, per_page=3)
    open_ids = _open(queue, *BY_DEADLINE)
    assert (_ids(first), first.pages) == (open_ids[:3], 3)
    assert _ids(third) == open_ids[6:]
    assert beyond.page == 3 and _ids(beyond) == open_ids[6:]


@pytest.mark.parametrize("order", list(QueueOrder))
def test_deep_pages_come_in_the_same_order(session, queue, monkeypatch, order):
    from requests_queue.requests import agent_queue as queue_module

    queue[4].clock_base_at = NOW  # one stored base among the filing times
    session.commit()
    flt = QueueFilter(order=order)
    shallow = [_ids(queue_page(session, flt, page=p, per_page=2)) for p in (1, 2, 3, 4)]
    monkeypatch.setattr(queue_module, "DEEP_PAGE_ROWS", 1)
    deep = [_ids(queue_page(session, flt, page=p, per_page=2)) for p in (1, 2, 3, 4)]
    assert deep == shallow
    assert sorted(sum(deep, [])) == sorted(r.id for r in queue if r.state.is_open)


@pytest.mark.parametrize(
    "flt",
    [
        lambda c, a: QueueFilter(kind=K.mass_opt_in),
        lambda c, a: QueueFilter(account_id=c.account_id),
        lambda c, a: QueueFilter(assignee_id=a.id),
        lambda c, a: QueueFilter(unassigned=True, account_id=c.account_id),
        lambda c, a: QueueFilter(search=c.account.name),
    ],
)
def test_a_filtered_queue_pages_in_the_order_of_its_deep_query(
    session, queue, customer, agent, monkeypatch, flt
):
    """The usual page's statement is built once per shape of filter, its values given as
    parameters; the deep query writes them in. Both must page alike for every filter."""
    from requests_queue.requests import agent_queue as queue_module

    queue[1].clock_base_at = NOW  # a stored base among the filing times
    session.commit()
    flt = flt(customer, agent)
    shallow = [_ids(queue_page(session, flt, page=p, per_page=2)) for p in (1, 2, 3)]
    monkeypatch.setattr(queue_module, "DEEP_PAGE_ROWS", 1)
    deep = [_ids(queue_page(session, flt, page=p, per_page=2)) for p in (1, 2, 3)]
    assert deep == shallow and any(shallow)


def test_filters_narrow_the_rows_and_each_facet_counts_with_the_others_applied(
    session, queue, customer, other_customer, agent, manager
):
    flt = QueueFilter(account_id=customer.account_id)
    page = queue_page(session, flt)
    assert _ids(page) == _open(queue, 0, 5, 7, 3)
    counts = page.counts
    assert counts.total == 4
    # The account facet ignores the account filter itself: it says what each choice would show.
    assert counts.account == {customer.account_id: 4, other_customer.account_id: 3}
    assert counts.kind == {K.mass_opt_in: 4}
    assert counts.assignee == {None: 2, agent.id: 1, manager.id: 1}
    assert [name for _, name, _ in counts.top_accounts()] == ["Acme", "Globex"]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (lambda c, a: QueueFilter(kind=K.undo_opt_out), [1]),
        (lambda c, a: QueueFilter(state=S.in_review), [1, 5, 8]),
        (lambda c, a: QueueFilter(assignee_id=a.id), [1, 8, 3]),
        (lambda c, a: QueueFilter(unassigned=True), [0, 4, 7]),
        (lambda c, a: QueueFilter(state=S.submitted, account_id=c.account_id), [0, 7]),
        (lambda c, a: QueueFilter(kind=K.undo_opt_out, unassigned=True), []),
    ],
)
def test_each_filter_shows_the_matching_open_requests(
    session, queue, customer, agent, flt, expected
):
    page = queue_page(session, flt(customer, agent))
    assert _ids(page) == [queue[i].id for i in expected]
    assert page.counts.total == len(expected)


def test_account_history_lists_requests_and_mass_actions_newest_first(
    session, queue, other_customer
):
    requests, batches = account_history(session, other_customer.account_id)
    assert [r.id for r in requests] == [queue[i].id for i in (8, 6, 4, 1)]
    assert [b.kind for b in batches] == [MassActionKind.opt_out]
