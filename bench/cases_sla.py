"""Issue 6's figures: the SLA sweep over open requests, the manager dashboard over decided ones.

Requests and their timelines are generated set-based (INSERT … SELECT over a numbers CTE),
one statement per kind of event, so ids follow each timeline's order as the app writes them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from requests_queue.calendar_store import load_calendar
from requests_queue.models import Role, User
from requests_queue.reports import refresh_report_facts
from requests_queue.sla.clock import calendar_key
from requests_queue.sla.deadlines import refresh_stale_clocks
from requests_queue.sla.sweep import sweep_sla
from support.auth.passwords import hash_password

from .data import BENCH_PASSWORD, _numbers, analyze, settle
from .harness import Bench, Result, fresh_database, median_time, session_for, timed, web_app

NOW = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)  # Friday 12:00 in Phoenix
PASSWORD = BENCH_PASSWORD
ACCOUNTS, AGENTS = 500, 20
BASE_URL = "http://bench.example"


def _now() -> datetime:
    return NOW.replace(tzinfo=None)


def _shift(engine: sa.Engine, column: str, minutes: str) -> str:
    """SQL: `column` moved by `minutes` (an SQL expression, may be negative)."""
    if engine.dialect.name == "postgresql":
        return f"({column} + ({minutes}) * interval '1 minute')"
    return f"datetime({column}, ({minutes}) || ' minutes')"


def _people(engine: sa.Engine) -> None:
    """Accounts with one customer each, AGENTS agents, and a manager who can log in."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO accounts (id, name, created_at) "
                f"SELECT n, 'Account ' || n, :now FROM {_numbers(engine, ACCOUNTS)}"
            ),
            {"now": _now()},
        )
        conn.execute(
            sa.text(
                "INSERT INTO users (id, email, name, password_hash, role, account_id, "
                "session_version, is_active, created_at) "
                "SELECT n, 'c' || n || '@bench.example', '', 'x', 'customer', n, 0, true, :now "
                f"FROM {_numbers(engine, ACCOUNTS)}"
            ),
            {"now": _now()},
        )
        conn.execute(
            sa.text(
                "INSERT INTO users (id, email, name, password_hash, role, account_id, "
                "session_version, is_active, created_at) "
                f"SELECT {ACCOUNTS} + n, 'agent' || n || '@bench.example', 'Agent ' || n, 'x', "
                f"'agent', NULL, 0, true, :now FROM {_numbers(engine, AGENTS)}"
            ),
            {"now": _now()},
        )
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT setval('users_id_seq', (SELECT max(id) FROM users))"))
            conn.execute(
                sa.text("SELECT setval('accounts_id_seq', (SELECT max(id) FROM accounts))")
            )
    with session_for(engine) as s:
        s.add(User(email="manager@bench.example", name="Bench Manager", role=Role.manager,
                   password_hash=hash_password(PASSWORD)))  # fmt: skip
        s.commit()


def _requests(
    engine: sa.Engine, count: int, state: str, filed: str, decided: str | None, first: int = 0
) -> None:
    """`count` requests with ids first + n; `state`, `filed`, `decided` are SQL over n."""
    agent = f"{ACCOUNTS} + 1 + n % {AGENTS}"
    assignee = f"CASE WHEN ({state}) = 'submitted' THEN NULL ELSE {agent} END"
    decided_by = "NULL" if decided is None else agent
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO consent_requests (id, account_id, kind, state, filed_by_id, filed_at, "
                "assignee_id, updated_at, selection, fields, address_count, reason, never_sent, "
                "explicit_permission, permission_details, form_links, list_source, attested, "
                "decided_at, decided_by_id, decision_message, checklist, changed_count, "
                "skipped_count, skipped_by_reason) "
                f"SELECT {first} + n, 1 + n % {ACCOUNTS}, 'mass_opt_in', {state}, "
                f"1 + n % {ACCOUNTS}, "
                f"{filed}, {assignee}, :now, 'all contacts', 'email', 10, "
                "'A reason long enough for the rule of thirty.', true, true, "
                "'Details long enough for the rule of fifty characters, surely.', "
                "'[\"https://bench.example/f\"]', 'website_form', true, "
                f"{decided or 'NULL'}, {decided_by}, '', '[]', 0, 0, '{{}}' "
                f"FROM {_numbers(engine, count)}"
            ),
            {"now": _now()},
        )


def _events(engine: sa.Engine, steps: list[tuple[str, str, str, str, str, str]]) -> None:
    """Append one event per matching request for each (kind, from, to, at, actor, where) step."""
    with engine.begin() as conn:
        for kind, source, target, at, actor, where in steps:
            actor_kind = "customer" if actor == "customer" else "agent"
            actor_id = "r.filed_by_id" if actor == "customer" else "r.assignee_id"
            assignee = "r.assignee_id" if kind == "claimed" else "NULL"
            conn.execute(
                sa.text(
                    "INSERT INTO request_events (request_id, kind, created_at, actor_kind, "
                    "actor_user_id, from_state, to_state, assignee_id, body, is_internal) "
                    f"SELECT r.id, '{kind}', {at}, '{actor_kind}', {actor_id}, {source}, "
                    f"'{target}', {assignee}, '', false FROM consent_requests r WHERE {where} "
                    "ORDER BY r.id"
                )
            )
    analyze(engine)


def _open_requests(engine: sa.Engine, count: int) -> None:
    """Open requests filed over the last 3 weeks: 40 % unclaimed, 10 % waiting for the
    customer, 5 % answered after a wait (their clocks need the timeline), the rest in review."""
    # CAST … AS BIGINT: n × 30,240 passes PostgreSQL's 32-bit integer at 71,000 requests.
    filed = _shift(engine, ":now", f"-(CAST(n AS BIGINT) * 30240 / {count}) - 1")
    state = ("CASE WHEN n % 20 < 8 THEN 'submitted' WHEN n % 20 < 10 THEN 'awaiting_customer' "
             "ELSE 'in_review' END")  # fmt: skip
    _requests(engine, count, state, filed, None)
    at = lambda minutes: _shift(engine, "r.filed_at", minutes)  # noqa: E731
    paused = "(r.id % 20 IN (8, 9, 10))"
    _events(engine, [
        ("filed", "NULL", "submitted", "r.filed_at", "customer", "true"),
        ("claimed", "'submitted'", "in_review", at("1"), "agent", "r.state <> 'submitted'"),
        ("question", "'in_review'", "awaiting_customer", at("2"), "agent", paused),
        ("answer", "'awaiting_customer'", "in_review", at("3"), "customer", "r.id % 20 = 10"),
    ])  # fmt: skip


def _decided_requests(engine: sa.Engine, count: int, first: int) -> None:
    """Decided requests (ids after `first`) filed 10 to 100 days ago, decided 1 h to 10 days
    later; one in ten waited for the customer on the way."""
    gap = "(60 + CAST(n AS BIGINT) * 7919 % 14400)"  # 64-bit: see _open_requests
    filed = _shift(engine, ":now", f"-(14400 + CAST(n AS BIGINT) * 129600 / {count})")
    state = "CASE WHEN n % 4 = 0 THEN 'rejected' ELSE 'approved' END"
    _requests(engine, count, state, filed, _shift(engine, filed, gap), first)
    n = f"(r.id - {first})"

    def at(share: str) -> str:
        return _shift(engine, "r.filed_at", f"{share} * ({gap.replace('n', n)})")

    done = "r.decided_at IS NOT NULL"
    waited = f"{done} AND r.id % 10 = 0"
    _events(engine, [
        ("filed", "NULL", "submitted", "r.filed_at", "customer", f"r.id > {first}"),
        ("claimed", "'submitted'", "in_review", at("0.2"), "agent", done),
        ("question", "'in_review'", "awaiting_customer", at("0.4"), "agent", waited),
        ("answer", "'awaiting_customer'", "in_review", at("0.6"), "customer", waited),
        ("approved", "'in_review'", "approved", "r.decided_at", "agent", "r.state = 'approved'"),
        ("rejected", "'in_review'", "rejected", "r.decided_at", "agent", "r.state = 'rejected'"),
    ])  # fmt: skip


def _sweep(bench: Bench, backend: str, url: str, size: int) -> None:
    with fresh_database(backend, url) as engine:
        _people(engine)
        _open_requests(engine, size)
        with session_for(engine) as s:
            calendar = load_calendar(s)
            # What the lifecycle stores when the app writes events (plain SQL wrote these).
            prepared, _ = timed(lambda: refresh_stale_clocks(s, calendar, calendar_key(calendar)))
            s.commit()
            analyze(engine)

            def sweep(now: datetime) -> dict[str, int]:
                counts = sweep_sla(s, calendar, now, base_url=BASE_URL)
                s.commit()
                return counts

            first, counts = timed(lambda: sweep(NOW))
            again, _ = timed(lambda: sweep(NOW + timedelta(minutes=5)))
        bench.record(Result("SLA clocks stored for plain-SQL rows (setup)", backend, prepared,
                            rows=size))  # fmt: skip
        bench.record(Result("SLA sweep, first run (marks every crossing, notifies)", backend,
                            first, rows=size, limit="< 2 s on SQLite",
                            extra={k: v for k, v in counts.items() if v}))  # fmt: skip
        bench.record(Result("SLA sweep, 5 minutes later", backend, again, rows=size,
                            limit="< 2 s on SQLite"))  # fmt: skip


def _dashboard(bench: Bench, backend: str, url: str, size: int) -> None:
    with fresh_database(backend, url) as engine:
        _people(engine)
        _open_requests(engine, size // 100)
        _decided_requests(engine, size, first=size // 100)
        with session_for(engine) as s:
            calendar = load_calendar(s)
            seconds, counts = timed(lambda: refresh_report_facts(s, calendar, NOW))
            s.commit()
        analyze(engine)
        settle(engine)  # the dashboard reads covering indexes, as on a database in use
        bench.record(Result("report facts and stored clocks, first full refresh", backend, seconds,
                            rows=size))  # fmt: skip
        app = web_app(engine)
        from support.manager import dashboard_views

        real_clock, dashboard_views.now_utc = dashboard_views.now_utc, lambda: NOW
        try:
            _pages(bench, backend, app, size)
        finally:
            dashboard_views.now_utc = real_clock
        with app.app_context():
            from support.extensions import db

            db.engine.dispose()


def _pages(bench: Bench, backend: str, app, size: int) -> None:
    """The dashboard as a logged-in manager's browser gets it (the clock frozen at NOW)."""
    client = app.test_client()
    client.post("/login", data={"email": "manager@bench.example", "password": PASSWORD})
    for label, query, limit in (
        ("dashboard page, last 90 days (every decision)", "?days=90", "< 300 ms on SQLite"),
        ("dashboard page, last 30 days", "?days=30", "< 300 ms on SQLite"),
        ("dashboard CSV, breaches of 90 days", "?days=90&format=csv&table=breaches", ""),
    ):

        def fetch(query=query):
            response = client.get(f"/manager/dashboard{query}")
            assert response.status_code == 200, response.status_code
            return response.get_data()

        bench.record(Result(label, backend, median_time(fetch, repeat=7), rows=size,
                            limit=limit))  # fmt: skip


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """The sweep over `size` open requests; the dashboard over `size` decided ones."""
    _sweep(bench, backend, url, size)
    _dashboard(bench, backend, url, size)
