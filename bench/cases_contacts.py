"""Issue 2's figures: mass opt-out vs its plain-SQL floor, the preview, the contact list."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from requests_queue.mass_actions import Direction, mass_opt_out, preview
from requests_queue.models import EmailField, Role
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind
from support import create_app

from .data import BENCH_PASSWORD, fill_account, make_user
from .harness import Bench, Result, fresh_database, median_time, session_for, timed

FIELDS = (EmailField.email, EmailField.email2)
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
OPEN = "('non_marketable', 'single_opt_in', 'double_opt_in')"


def _floor(engine: sa.Engine, account_id: int, user_id: int) -> int:
    """The same work as a mass opt-out, written by hand as plain SQL statements."""
    p = {"acc": account_id, "uid": user_id, "now": NOW.replace(tzinfo=None)}
    where = f"account_id = :acc AND field IN ('email', 'email2') AND status IN {OPEN}"
    with engine.begin() as conn:
        ma = conn.execute(
            sa.text(
                "INSERT INTO mass_actions (account_id, user_id, kind, selection, fields, "
                "changed_count, skipped_count, skipped_by_reason, created_at) "
                "VALUES (:acc, :uid, 'opt_out', 'all', 'email,email2', 0, 0, '{}', :now) "
                "RETURNING id"
            ),
            p,
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO status_events (account_id, address_id, from_status, to_status, "
                "created_at, actor_kind, actor_user_id, mass_action_id, note) "
                "SELECT account_id, id, status, 'opted_out_by_user', :now, 'customer', :uid, :ma, "
                f"'' FROM email_addresses WHERE {where}"
            ),
            {**p, "ma": ma},
        )
        moved = conn.execute(
            sa.text(
                "UPDATE email_addresses SET status = 'opted_out_by_user', status_changed_at = :now "
                f"WHERE {where}"
            ),
            p,
        ).rowcount
        conn.execute(
            sa.text(
                "INSERT INTO mass_action_items (mass_action_id, address_id, prior_status) "
                "SELECT mass_action_id, address_id, from_status FROM status_events "
                "WHERE mass_action_id = :ma"
            ),
            {"ma": ma},
        )
    return moved


def _domain(engine: sa.Engine, account_id: int, user_id: int, expected: int) -> int:
    with session_for(engine) as s:
        batch = mass_opt_out(
            s,
            ContactFilter(account_id=account_id),
            FIELDS,
            Actor(ActorKind.customer, user_id),
            NOW,
            expected,
        )
        s.commit()
        return batch.changed_count


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """Fill two accounts of `size` addresses each, then measure."""
    with fresh_database(backend, url) as engine:
        floor_acc = fill_account(engine, "Floor Co", size // 2, fields=2, mix=True)
        acc = fill_account(engine, "Bench Co", size // 2, fields=2, mix=True)
        floor_user = make_user(engine, "floor@bench.example", Role.customer, floor_acc)
        user = make_user(engine, "bench@bench.example", Role.customer, acc)

        with session_for(engine) as s:
            flt = ContactFilter(account_id=acc)
            seconds = median_time(lambda: preview(s, flt, FIELDS, Direction.opt_out), repeat=3)
            expected = preview(s, flt, FIELDS, Direction.opt_out).changing
        bench.record(
            Result(
                "mass action preview", backend, seconds, rows=size // 2 * 2, limit="< 1 s on SQLite"
            )
        )

        _contact_list(bench, backend, engine, size)

        floor_s, floor_rows = timed(lambda: _floor(engine, floor_acc, floor_user))
        dom_s, dom_rows = timed(lambda: _domain(engine, acc, user, expected))
        assert floor_rows == dom_rows == expected, (floor_rows, dom_rows, expected)
        bench.record(
            Result(
                "mass opt-out (update + snapshot + events)",
                backend,
                dom_s,
                rows=dom_rows,
                baseline_seconds=floor_s,
                ratio=dom_s / floor_s,
                limit="ratio <= 2",
            )
        )


def _contact_list(bench: Bench, backend: str, engine: sa.Engine, size: int) -> None:
    """First page of the contact list, as the customer's browser gets it."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": engine.url.render_as_string(hide_password=False),
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "bench",
        }
    )
    client = app.test_client()
    client.post("/login", data={"email": "bench@bench.example", "password": BENCH_PASSWORD})
    for label, query in (
        ("contact list, first page filtered by status", "/contacts?status=non_marketable"),
        ("contact list, first page filtered by rare status", "/contacts?status=spam_complaint"),
        ("contact list, first page unfiltered", "/contacts"),
        ("contact list, search by address prefix", "/contacts?q=c12345"),
        ("contact list, tag + status", "/contacts?tag=2&status=non_marketable"),
    ):

        def fetch(query=query):
            response = client.get(query)
            assert response.status_code == 200, response.status_code

        seconds = median_time(fetch, repeat=5)
        bench.record(Result(label, backend, seconds, rows=size, limit="< 1 s on SQLite"))
    with app.app_context():
        from support.extensions import db

        db.engine.dispose()
