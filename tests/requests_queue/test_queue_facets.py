"""The queue's filter counts, summed by the database, against a count of the requests made here
in Python (the oracle): for random filters, each facet counts the open requests that match
every other filter, the total those that match them all; of more accounts than the list
shows, the busiest are listed with the selected one, and "Any account" sums them all. The
kept counts and a search's scan give the same figures. Both databases."""

from __future__ import annotations

import random
from collections import Counter

import sqlalchemy as sa

from requests_queue.models import ConsentRequest, RequestKind, RequestState
from requests_queue.models.requests import OPEN_STATES
from requests_queue.requests import queue_tally
from requests_queue.requests.agent_queue import MAX_ACCOUNTS_LISTED, QueueFilter, queue_counts
from tests.requests_queue.test_queue_tally import COLUMNS

ACCOUNTS = MAX_ACCOUNTS_LISTED + 6


def _requests(session, make_account, file_opt_in, customer, people) -> list[tuple]:
    """400 requests over ACCOUNTS accounts in random states, kinds and hands."""
    rng = random.Random(5)
    accounts = [customer.account_id] + [make_account(f"Facet {i}").id for i in range(ACCOUNTS - 1)]
    source = file_opt_in(customer, n=1).id
    cols = ", ".join(COLUMNS)
    select = " UNION ALL ".join([f"SELECT {cols} FROM consent_requests WHERE id = :s"] * 399)
    session.execute(sa.text(f"INSERT INTO consent_requests ({cols}) {select}"), {"s": source})
    ids = session.scalars(sa.select(ConsentRequest.id)).all()
    for i, rid in enumerate(ids):
        if i == len(ids) // 2:  # half the changes folded: the page reads both halves
            queue_tally.fold(session)
        # Every account holds an open request, so more are open than the list shows; the
        # rest is skewed, so the busiest stand apart.
        account = accounts[i] if i < ACCOUNTS else accounts[int(rng.triangular(0, ACCOUNTS, 0))]
        state = RequestState.submitted if i < ACCOUNTS else rng.choice(list(RequestState))
        session.execute(
            sa.update(ConsentRequest)
            .where(ConsentRequest.id == rid)
            .values(
                account_id=account,
                state=state,
                kind=RequestKind.mass_opt_in,
                assignee_id=rng.choice(people),
            )
        )
    session.commit()
    return [
        (RequestState(s), RequestKind(k), a, p)
        for s, k, a, p in session.execute(
            sa.select(
                ConsentRequest.state,
                ConsentRequest.kind,
                ConsentRequest.account_id,
                ConsentRequest.assignee_id,
            )
        )
    ]


def _oracle(rows: list[tuple], flt: QueueFilter) -> dict:
    def ok(row, skip=""):
        state, kind, account, assignee = row
        return (
            state in OPEN_STATES
            and (skip == "state" or flt.state is None or state == flt.state)
            and (skip == "kind" or flt.kind is None or kind == flt.kind)
            and (skip == "account" or flt.account_id is None or account == flt.account_id)
            and (
                skip == "assignee"
                or (assignee is None if flt.unassigned else flt.assignee_id in (None, assignee))
            )
        )

    accounts = Counter(r[2] for r in rows if ok(r, "account"))
    return {
        "total": sum(ok(r) for r in rows),
        "state": Counter(r[0] for r in rows if ok(r, "state")),
        "kind": Counter(r[1] for r in rows if ok(r, "kind")),
        "assignee": Counter(r[3] for r in rows if ok(r, "assignee")),
        "accounts": accounts,
    }


def test_each_facet_counts_what_every_other_filter_lets_through(
    session, make_account, file_opt_in, customer, agent, manager
):
    people = [None, agent.id, manager.id]
    rows = _requests(session, make_account, file_opt_in, customer, people)
    rng = random.Random(9)
    accounts = sorted({r[2] for r in rows})
    for _ in range(40):
        assignee = rng.choice(["", "none", agent.id, manager.id])
        flt = QueueFilter(
            state=rng.choice([None, *OPEN_STATES]),
            kind=rng.choice([None, *RequestKind]),
            account_id=rng.choice([None, *accounts]),
            assignee_id=assignee if isinstance(assignee, int) else None,
            unassigned=assignee == "none",
        )
        counts, want = queue_counts(session, flt), _oracle(rows, flt)
        assert counts.total == want["total"], flt
        assert counts.state == dict(want["state"]), flt
        assert counts.kind == dict(want["kind"]), flt
        assert counts.assignee == dict(want["assignee"]), flt
        assert counts.account_total == sum(want["accounts"].values()), flt
        busiest = sorted(want["accounts"].items(), key=lambda kv: (-kv[1], kv[0]))
        listed = dict(busiest[:MAX_ACCOUNTS_LISTED])
        if flt.account_id in want["accounts"]:
            listed[flt.account_id] = want["accounts"][flt.account_id]
        assert counts.account == listed, flt
        shown = [i for i, _name, _n in counts.top_accounts(flt.account_id)]
        assert flt.account_id is None or flt.account_id in shown
    # A search scans the requests it finds: for the customer's account name, the same figures
    # as the kept counts narrowed to that account.
    named = queue_counts(session, QueueFilter(search=customer.account.name))
    assert named.total == queue_counts(session, QueueFilter(account_id=customer.account_id)).total
