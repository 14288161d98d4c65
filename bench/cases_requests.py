"""Issue 5's figures: approving a mass opt-in vs its plain-SQL floor; the agent queue page."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa

from requests_queue.models import (
    ApplyState,
    ConsentRequest,
    EmailField,
    FreezeState,
    ListSource,
    RequestKind,
    RequestState,
    Role,
)
from requests_queue.requests.applying import run_approval
from requests_queue.requests.approval import approve_request, confirm_approval
from requests_queue.requests.evidence import CHECKLIST, EvidenceInput
from requests_queue.requests.filing import file_request
from requests_queue.requests.freezing import run_freeze
from requests_queue.requests.lifecycle import claim_request
from requests_queue.requests.targets import OptInTarget
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind

from .data import BENCH_PASSWORD, _numbers, analyze, fill_account, make_user
from .harness import Bench, Result, fresh_database, median_time, session_for, timed, web_app

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
FIELDS = (EmailField.email, EmailField.email2)
BASE_URL = "http://bench.example"
INLINE_MAX = 5000  # the web app's APPLY_INLINE_MAX and FREEZE_INLINE_MAX defaults
PASSWORD = BENCH_PASSWORD
EVIDENCE = EvidenceInput(
    reason="Imported without the permission flag from our own sign-up form.",
    last_sent="never",
    explicit_permission="yes",
    permission_details="Every contact ticked an unticked newsletter box on our website form.",
    form_links=("https://bench.example/signup",),
    list_source="website_form",
    attested=True,
)


def _bare_request(engine: sa.Engine, account_id: int, user_id: int) -> int:
    """A request row for the floor's events to name (the floor writes no selection)."""
    with session_for(engine) as s:
        req = ConsentRequest(
            account_id=account_id,
            kind=RequestKind.mass_opt_in,
            state=RequestState.in_review,
            filed_by_id=user_id,
            filed_at=NOW,
            selection="all contacts",
            fields="email,email2",
            reason=EVIDENCE.reason,
            never_sent=True,
            permission_details=EVIDENCE.permission_details,
            form_links=list(EVIDENCE.form_links),
            list_source=ListSource.website_form,
        )
        s.add(req)
        s.commit()
        return req.id


def _floor(engine: sa.Engine, account_id: int, agent_id: int, request_id: int) -> int:
    """The approval's status writes by hand: one INSERT … SELECT of events, one UPDATE."""
    p = {"acc": account_id, "uid": agent_id, "rid": request_id, "now": NOW.replace(tzinfo=None)}
    where = "account_id = :acc AND status = 'non_marketable'"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO status_events (account_id, address_id, from_status, to_status, "
                "created_at, actor_kind, actor_user_id, request_id, note) "
                "SELECT account_id, id, status, 'single_opt_in', :now, 'agent', :uid, :rid, '' "
                f"FROM email_addresses WHERE {where}"
            ),
            p,
        )
        return conn.execute(
            sa.text(
                "UPDATE email_addresses SET status = 'single_opt_in', status_changed_at = :now "
                f"WHERE {where}"
            ),
            p,
        ).rowcount


def _approve(engine: sa.Engine, request_id: int, agent_id: int, second_id: int) -> tuple:
    """Approve as the agent does; above the four-eyes threshold (issue 15) a second agent then
    confirms: that decision is what the agent's click waits for (`inline_max` as the web
    app's default), and a background run then applies the changes in committed chunks, as
    the web app's thread does. (Seconds of the click, changed count.)"""
    checklist = [k for k, _ in CHECKLIST]
    with session_for(engine) as s:
        req = s.get(ConsentRequest, request_id)
        start = time.perf_counter()
        done = approve_request(
            s, req, Actor(ActorKind.agent, agent_id), NOW, checklist=checklist, base_url=BASE_URL,
            inline_max=INLINE_MAX,
        )  # fmt: skip
        s.commit()
        if done.state is RequestState.pending_second_review:
            start = time.perf_counter()
            done = confirm_approval(
                s, req, Actor(ActorKind.agent, second_id), NOW, checklist=checklist,
                base_url=BASE_URL, inline_max=INLINE_MAX,
            )  # fmt: skip
            s.commit()
        click_s = time.perf_counter() - start
    assert run_approval(engine, request_id, BASE_URL) in (ApplyState.done, None)
    with session_for(engine) as s:
        return click_s, s.get(ConsentRequest, request_id).changed_count


def _warm_up(engine: sa.Engine, agent: int, second: int) -> None:
    """Approve a one-address request first: a running app has its SQL compiled already."""
    acc = fill_account(engine, "Warm-up Co", 1, fields=1)
    user = make_user(engine, "warm@bench.example", Role.customer, acc)
    with session_for(engine) as s:
        target = OptInTarget(ContactFilter(account_id=acc), (EmailField.email,))
        req = file_request(
            s, target, EVIDENCE, Actor(ActorKind.customer, user), NOW, base_url=BASE_URL
        )
        claim_request(s, req, Actor(ActorKind.agent, agent), NOW)
        s.commit()
        request_id = req.id
    _approve(engine, request_id, agent, second)


def _approval(bench: Bench, backend: str, url: str, size: int) -> None:
    with fresh_database(backend, url) as engine:
        floor_acc = fill_account(engine, "Floor Co", size // 2, fields=2)
        acc = fill_account(engine, "Bench Co", size // 2, fields=2)
        floor_user = make_user(engine, "floor@bench.example", Role.customer, floor_acc)
        customer = make_user(engine, "bench@bench.example", Role.customer, acc)
        agent = make_user(engine, "agent@bench.example", Role.agent)
        second = make_user(engine, "second@bench.example", Role.agent)
        floor_request = _bare_request(engine, floor_acc, floor_user)

        clicked: list[float] = []

        def file() -> int:
            """The customer's filing (the web's FREEZE_INLINE_MAX default: recorded, then
            frozen by a background run in committed chunks), then the agent's claim."""
            with session_for(engine) as s:
                target = OptInTarget(ContactFilter(account_id=acc), FIELDS)
                start = time.perf_counter()
                req = file_request(
                    s, target, EVIDENCE, Actor(ActorKind.customer, customer), NOW,
                    base_url=BASE_URL, inline_max=INLINE_MAX,
                )  # fmt: skip
                s.commit()
                clicked.append(time.perf_counter() - start)
                request_id = req.id
            assert run_freeze(engine, request_id) in (FreezeState.done, None)
            with session_for(engine) as s:
                req = s.get(ConsentRequest, request_id)
                claim_request(s, req, Actor(ActorKind.agent, agent), NOW)
                s.commit()
                return req.id

        file_s, request_id = timed(file)
        bench.record(
            Result(
                "request: the customer's filing click (recorded; frozen in the background)",
                backend,
                clicked[0],
                rows=size,
                limit="< 0.5 s",
            )
        )
        analyze(engine)
        _warm_up(engine, agent, second)
        bench.record(
            Result(
                "request: file mass opt-in, end to end (freeze the selection in the background)",
                backend,
                file_s,
                rows=size,
            )
        )
        floor_s, floor_rows = timed(lambda: _floor(engine, floor_acc, agent, floor_request))
        approve_s, (click_s, changed) = timed(lambda: _approve(engine, request_id, agent, second))
        assert floor_rows == changed == size, (floor_rows, changed, size)
        bench.record(
            Result(
                "request: the agent's approval click (the decision; applied in the background)",
                backend,
                click_s,
                rows=changed,
                limit="< 0.5 s",
            )
        )
        bench.record(
            Result(
                "request: approve mass opt-in, end to end (recheck, events, update, outcomes)",
                backend,
                approve_s,
                rows=changed,
                baseline_seconds=floor_s,
                ratio=approve_s / floor_s,
                limit="ratio <= 2",
            )
        )
        _pages(bench, backend, engine, request_id)


def _pages(bench: Bench, backend: str, engine: sa.Engine, request_id: int) -> None:
    """The approved 1,000,000-address request's pages, as the agent and the customer get them."""
    app = web_app(engine)
    for who, path in (
        ("agent@bench.example", f"/desk/requests/{request_id}"),
        ("bench@bench.example", f"/requests/{request_id}"),
    ):
        client = app.test_client()
        client.post("/login", data={"email": who, "password": PASSWORD})

        def fetch(path=path, client=client):
            response = client.get(path)
            assert response.status_code == 200, response.status_code

        side = "review page (agent)" if who.startswith("agent") else "request page (customer)"
        bench.record(
            Result(
                f"page: an approved request's {side}",
                backend,
                median_time(fetch, repeat=3),
                rows=1,
                limit="< 0.3 s",
            )
        )
    with app.app_context():
        from support.extensions import db

        db.engine.dispose()


def _fill_requests(engine: sa.Engine, count: int, accounts: int, agents: list[int]) -> None:
    """`count` requests over `accounts` accounts, a quarter open, in set-based statements."""
    with engine.begin() as conn:
        base = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM accounts")).scalar_one()
        conn.execute(
            sa.text(
                f"INSERT INTO accounts (id, name, created_at) SELECT :b + n, 'Account ' || n, :now "
                f"FROM {_numbers(engine, accounts)}"
            ),
            {"b": base, "now": NOW.replace(tzinfo=None)},
        )
        ubase = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM users")).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO users (id, email, name, password_hash, role, account_id, "
                "session_version, is_active, created_at) "
                "SELECT :u + n, 'c' || n || '@bench.example', '', 'x', 'customer', :b + n, 0, "
                "true, :now "
                f"FROM {_numbers(engine, accounts)}"
            ),
            {"u": ubase, "b": base, "now": NOW.replace(tzinfo=None)},
        )
        mbase = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM mass_actions")).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO mass_actions (id, account_id, user_id, kind, selection, fields, "
                "changed_count, skipped_count, skipped_by_reason, created_at) "
                "SELECT :m + n, :b + n, :u + n, 'opt_out', 'all', 'email', 1, 0, '{}', :now "
                f"FROM {_numbers(engine, accounts)}"
            ),
            {"m": mbase, "u": ubase, "b": base, "now": NOW.replace(tzinfo=None)},
        )
        # n % 20: 0-1 submitted, 2-3 in review, 4 awaiting the customer, the rest decided.
        state = (
            "CASE WHEN n % 20 < 2 THEN 'submitted' WHEN n % 20 < 4 THEN 'in_review' "
            "WHEN n % 20 = 4 THEN 'awaiting_customer' WHEN n % 20 < 14 THEN 'approved' "
            "WHEN n % 20 < 18 THEN 'rejected' ELSE 'withdrawn' END"
        )
        assignee = " ".join(f"WHEN {i} THEN {a}" for i, a in enumerate(agents))
        assignee = f"CASE WHEN n % 20 < 2 THEN NULL ELSE CASE n % {len(agents)} {assignee} END END"
        minutes = "interval '1 minute'" if engine.dialect.name == "postgresql" else None
        filed = (
            f"CAST(:now AS timestamp) - n * {minutes}"
            if minutes
            else "datetime(:now, '-' || n || ' minutes')"
        )
        conn.execute(
            sa.text(
                "INSERT INTO consent_requests (account_id, kind, state, filed_by_id, filed_at, "
                "assignee_id, updated_at, mass_action_id, selection, fields, address_count, "
                "reason, never_sent, explicit_permission, permission_details, form_links, "
                "list_source, attested, decision_message, checklist, changed_count, "
                "skipped_count, skipped_by_reason) "
                f"SELECT :b + 1 + n % {accounts}, "
                "CASE WHEN n % 7 = 0 THEN 'undo_opt_out' ELSE 'mass_opt_in' END, "
                f"{state}, :u + 1 + n % {accounts}, {filed}, {assignee}, :now, "
                f"CASE WHEN n % 7 = 0 THEN :m + 1 + n % {accounts} END, 'all contacts', 'email', "
                "100, 'A reason long enough for the rule of thirty.', true, true, "
                "'Details long enough for the rule of fifty characters, surely.', "
                "'[\"https://bench.example/f\"]', 'website_form', true, '', '[]', 0, 0, '{}' "
                f"FROM {_numbers(engine, count)}"
            ),
            {"b": base, "u": ubase, "m": mbase, "now": NOW.replace(tzinfo=None)},
        )
    analyze(engine)


def _queue(bench: Bench, backend: str, url: str, count: int) -> None:
    with fresh_database(backend, url) as engine:
        agents = [make_user(engine, f"agent{i}@bench.example", Role.agent) for i in range(3)]
        with engine.begin() as conn:  # more agents without hashing a password each
            conn.execute(
                sa.text(
                    "INSERT INTO users (email, name, password_hash, role, session_version, "
                    "is_active, created_at) SELECT 'agent' || (n + 2) || '@bench.example', '', "
                    f"'x', 'agent', 0, true, :now FROM {_numbers(engine, 17)}"
                ),
                {"now": NOW.replace(tzinfo=None)},
            )
            agents += list(
                conn.execute(
                    sa.text("SELECT id FROM users WHERE role = 'agent' AND id > :a"),
                    {"a": agents[-1]},
                ).scalars()
            )
        _fill_requests(engine, count, accounts=500, agents=agents)
        app = web_app(engine)
        client = app.test_client()
        client.post("/login", data={"email": "agent0@bench.example", "password": PASSWORD})
        for label, query in (
            ("queue page as an agent, first page + filter counts", "/desk/"),
            ("queue page, mine", "/desk/?assignee=me"),
            ("queue page, one account, newest first", "/desk/?account=7&order=newest"),
            (
                "queue page, undo requests awaiting the customer",
                "/desk/?kind=undo_opt_out&state=awaiting_customer",
            ),
        ):

            def fetch(query=query):
                response = client.get(query)
                assert response.status_code == 200, response.status_code

            seconds = median_time(fetch, repeat=9)
            bench.record(
                Result(
                    label,
                    backend,
                    seconds,
                    rows=count,
                    limit="< 100 ms median on SQLite" if query == "/desk/" else "",
                )
            )
        with app.app_context():
            from support.extensions import db

            db.engine.dispose()


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """Approval of `size` addresses vs its floor; the queue with size / 10 requests."""
    _approval(bench, backend, url, size)
    _queue(bench, backend, url, max(1, size // 10))
