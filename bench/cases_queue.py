"""Issue 5's queue figures: the agent queue page at `count` requests, through the app: rendered
each view (the first view after any change to what it shows), and kept (a repeat view while
nothing changed, issue 16)."""

from __future__ import annotations

import sqlalchemy as sa

from requests_queue.models import Role

from .cases_requests import NOW
from .data import BENCH_PASSWORD, _numbers, fill_requests, make_user
from .harness import Bench, Result, fresh_database, median_time, web_app

PASSWORD = BENCH_PASSWORD


def run(bench: Bench, backend: str, url: str, count: int) -> None:
    """The queue page and three of its filters, as an agent gets them, over `count` requests."""
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
        fill_requests(engine, count, NOW, accounts=500, agents=agents)
        app = web_app(engine, QUEUE_CACHE_PAGES=0)  # each view rendered
        client = app.test_client()
        client.post("/login", data={"email": "agent0@bench.example", "password": PASSWORD})
        kept = web_app(engine)
        kept_client = kept.test_client()
        kept_client.post("/login", data={"email": "agent0@bench.example", "password": PASSWORD})

        def fetch_kept():
            response = kept_client.get("/desk/")
            assert response.status_code == 200, response.status_code

        bench.record(
            Result(
                "queue page as an agent, kept (a repeat view, nothing changed)",
                backend,
                median_time(fetch_kept, repeat=9),
                rows=count,
            )
        )
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
        for each in (app, kept):
            with each.app_context():
                from support.extensions import db

                db.engine.dispose()
