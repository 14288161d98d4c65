"""A new small account beside a large one (issue 11 §4): the statements reshaped so their plans
do not depend on the planner's guess for the new account still select exactly its rows.

The large account is filled and analysed first, so the statistics know only it, as on a real
installation; then the small account runs `flask seed-demo`'s mass opt-out (tag + search), an
undo request and a mass opt-in request with their approvals.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bench.data import analyze, fill_account
from requests_queue.mass_actions import Direction, mass_opt_out, preview
from requests_queue.models import EmailAddress, EmailField, StatusEvent, Tag
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.filing import file_request
from requests_queue.requests.lifecycle import claim_request
from requests_queue.requests.targets import OptInTarget, UndoTarget
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind, EmailStatus

from ..conftest import NOW

S = EmailStatus
BOTH = (EmailField.email, EmailField.email2)
LAST = ["Hill", "Baker", "Hillary", "Chen", "Diaz"]  # "hill" finds Hill and Hillary


def _statuses(session, account_id):
    rows = session.execute(
        sa.select(EmailAddress.address, EmailAddress.status).where(
            EmailAddress.account_id == account_id
        )
    )
    return dict(rows.all())


def _small_account(session, db, customer, make_contact):
    """A large account analysed, then 20 contacts of two addresses in the customer's."""
    session.commit()
    large = fill_account(db.engine, "Large Co", 1500, fields=2, mix=True)
    analyze(db.engine)
    for i in range(20):
        make_contact(
            customer,
            first_name=f"Small{i}",
            last_name=LAST[i % len(LAST)],
            tags=("Newsletter",) if i % 2 == 0 else (),
            email=f"s{i}@small.example",
            email2=f"t{i}@small.example",
        )
    tag = session.scalar(
        sa.select(Tag.id).where(Tag.account_id == customer.account_id, Tag.name == "Newsletter")
    )
    return large, tag


def _approve(session, req, agent):
    actor = Actor(ActorKind.agent, agent.id)
    claim_request(session, req, actor, NOW)
    done = approve_request(
        session, req, actor, NOW, checklist=[k for k, _ in CHECKLIST], base_url="http://x"
    )
    session.commit()
    return done


def test_small_account_operations_select_exactly_its_rows_beside_a_large_one(
    session, db, customer, agent, make_contact, evidence
):
    large, tag = _small_account(session, db, customer, make_contact)
    large_before = _statuses(session, large)
    acc, me = customer.account_id, Actor(ActorKind.customer, customer.id)
    demo = ContactFilter(account_id=acc, tag_id=tag, search="hill")
    # Tagged (even i) and named Hill or Hillary (i % 5 in 0, 2): i = 0, 2, 10, 12.
    hills = {f"{p}{i}@small.example" for i in (0, 2, 10, 12) for p in "st"}

    p = preview(session, demo, BOTH, Direction.opt_out)
    assert (p.total, p.changing) == (8, 8)
    batch = mass_opt_out(session, demo, BOTH, me, NOW, 8)
    session.commit()
    after = _statuses(session, acc)
    assert {a for a, s in after.items() if s is S.opted_out_by_user} == hills
    assert batch.changed_count == 8

    everyone = OptInTarget(ContactFilter(acc), BOTH)
    opt_in = file_request(session, everyone, evidence, me, NOW, base_url="http://x")
    session.commit()
    assert opt_in.address_count == 32  # the opted-out eight are not eligible
    assert _approve(session, opt_in, agent).changed_count == 32

    undo = file_request(session, UndoTarget(acc, batch.id), evidence, me, NOW, base_url="http://x")
    session.commit()
    assert undo.address_count == 8
    assert _approve(session, undo, agent).changed_count == 8
    after = _statuses(session, acc)
    assert {a for a, s in after.items() if s is S.non_marketable} == hills  # restored
    assert {s for a, s in after.items() if a not in hills} == {S.single_opt_in}

    # The large account was never touched: same statuses, no event of ours.
    assert _statuses(session, large) == large_before
    ours = sa.select(sa.func.count()).where(
        StatusEvent.account_id == large, StatusEvent.note != "bench fill"
    )
    assert session.scalar(ours) == 0


def test_filters_side_by_side_match_the_contact_list_beside_a_large_one(
    session, db, customer, make_contact
):
    _, tag = _small_account(session, db, customer, make_contact)
    acc = customer.account_id
    for flt, expected in (
        (ContactFilter(acc, tag_id=tag), 20),
        (ContactFilter(acc, search="hill"), 16),
        (ContactFilter(acc, search="hillary"), 8),
        (ContactFilter(acc, search="t3@small.example"), 2),
        (ContactFilter(acc, tag_id=tag, search="hill"), 8),
        (ContactFilter(acc, tag_id=tag, status=S.non_marketable), 20),
        (ContactFilter(acc, status=S.single_opt_in), 0),
    ):
        assert preview(session, flt, BOTH, Direction.opt_in).total == expected, flt


def _accounts_in_statistics(session) -> set[int]:
    """The account ids PostgreSQL's statistics list as common in the address table."""
    values = session.scalar(
        sa.text(
            "SELECT most_common_vals::text FROM pg_stats "
            "WHERE tablename = 'email_addresses' AND attname = 'account_id'"
        )
    )
    return {int(v) for v in (values or "{}").strip("{}").split(",") if v}


def test_a_bulk_mass_opt_out_refreshes_the_statistics_on_postgresql(
    session, db, backend, customer, make_contact, monkeypatch
):
    import requests_queue.planner_stats as planner_stats

    monkeypatch.setattr(planner_stats, "BULK_ROWS", 30)  # 40 addresses count as bulk here
    _, tag = _small_account(session, db, customer, make_contact)
    acc = customer.account_id
    if backend == "postgresql":
        assert acc not in _accounts_in_statistics(session)
    flt, me = ContactFilter(acc), Actor(ActorKind.customer, customer.id)
    mass_opt_out(session, flt, BOTH, me, NOW, 40)
    if backend == "postgresql":  # analysed in the same transaction, before the commit
        assert acc in _accounts_in_statistics(session)
    session.commit()
    assert set(_statuses(session, acc).values()) == {S.opted_out_by_user}


def test_analyze_after_bulk_leaves_small_writes_and_sqlite_alone(session, backend):
    from requests_queue.planner_stats import BULK_ROWS, analyze_after_bulk

    assert analyze_after_bulk(session, ["email_addresses"], BULK_ROWS - 1) is False
    assert analyze_after_bulk(session, ["email_addresses"], BULK_ROWS) is (backend == "postgresql")


def test_a_bulk_import_refreshes_the_statistics_on_postgresql(
    session, db, backend, customer, do_import, monkeypatch
):
    import requests_queue.planner_stats as planner_stats

    monkeypatch.setattr(planner_stats, "BULK_ROWS", 30)  # 40 contacts count as bulk here
    session.commit()
    fill_account(db.engine, "Large Co", 1500, fields=2, mix=True)  # analysed without Acme
    rows = "".join(f"Person{i},p{i}@acme.example\n" for i in range(40))
    batch = do_import("First Name,Email\n" + rows)
    assert batch.created_count == 40
    if backend == "postgresql":
        assert customer.account_id in _accounts_in_statistics(session)


@pytest.mark.postgres_only
def test_a_bulk_import_refreshes_the_statistics_before_it_ends(
    session, db, customer, do_import, monkeypatch
):
    """Statistics taken before the import say the account holds no addresses; its next chunks'
    probe of (account, address) then walked the account's other index once per row (a CI run
    stalled for minutes at 50,000 rows). Past BULK_ROWS written the import analyses the tables
    before its next chunk, and the probe is planned on the unique index."""
    import requests_queue.imports.pipeline as pipeline
    import requests_queue.planner_stats as planner_stats

    for module in (pipeline, planner_stats):  # 100 addresses count as bulk here
        monkeypatch.setattr(module, "BULK_ROWS", 30)
    session.commit()
    fill_account(db.engine, "Large Co", 1500, fields=2, mix=True)  # analysed without Acme
    assert customer.account_id not in _accounts_in_statistics(session)
    rows = "".join(f"Person{i},p{i}@acme.example\n" for i in range(400))
    batch = do_import("First Name,Email\n" + rows, chunk_rows=100, stop_after_chunks=2)
    assert batch.state.value == "running" and batch.created_count == 200  # stopped mid-way
    assert customer.account_id in _accounts_in_statistics(session)
    plan = "\n".join(
        session.scalars(
            sa.text(
                "EXPLAIN SELECT COALESCE(contact_id, -id) FROM email_addresses "
                "WHERE account_id = :a AND address = 'p399@acme.example'"
            ),
            {"a": customer.account_id},
        )
    )
    assert "uq_email_addresses_account_address" in plan, plan


def test_a_chunked_approval_refreshes_the_statistics_once_at_its_end_on_postgresql(
    session, db, backend, customer, agent, make_contact, evidence, monkeypatch
):
    import requests_queue.planner_stats as planner_stats
    from requests_queue.models import ApplyState
    from requests_queue.requests.applying import run_approval

    monkeypatch.setattr(planner_stats, "BULK_ROWS", 30)  # the first chunk's 35 count as bulk
    _small_account(session, db, customer, make_contact)
    acc, me = customer.account_id, Actor(ActorKind.customer, customer.id)
    req = file_request(session, OptInTarget(ContactFilter(acc), BOTH), evidence, me, NOW,
                       base_url="http://x")  # fmt: skip
    session.commit()
    actor = Actor(ActorKind.agent, agent.id)
    claim_request(session, req, actor, NOW)
    approve_request(
        session, req, actor, NOW, checklist=[k for k, _ in CHECKLIST], base_url="http://x",
        inline_max=0,
    )  # fmt: skip
    session.commit()
    run_approval(db.engine, req.id, "http://x", lambda: NOW, chunk=35, stop_after_chunks=1)
    if backend == "postgresql":  # 35 addresses changed, not yet analysed: not per chunk
        assert acc not in _accounts_in_statistics(session)
    later = NOW + timedelta(minutes=3)  # the first run went silent: this one takes over
    assert run_approval(db.engine, req.id, "http://x", lambda: later, chunk=35) is ApplyState.done
    if backend == "postgresql":  # the whole request's changes, analysed when it finished
        assert acc in _accounts_in_statistics(session)
    session.expire_all()
    assert set(_statuses(session, acc).values()) == {S.single_opt_in}
