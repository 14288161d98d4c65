"""Issue 12's figure: the send-time check of 1,000 addresses in an account of `size` addresses.

Measured twice: the domain's one query (`lookup_addresses`), and the whole API call
(`POST /api/v1/addresses/lookup` with a bearer token: authentication, rate limit, JSON in and
out) through the WSGI app. The 1,000 addresses are spread over the account, in mixed case, with
one in ten unknown, as a sending pipeline's batch would be.
"""

from __future__ import annotations

from requests_queue.api_tokens import create_token
from requests_queue.models import Role, User
from requests_queue.now import now_utc
from requests_queue.send_check import MAX_LOOKUP, lookup_addresses

from .data import fill_account, make_user
from .harness import Bench, Result, fresh_database, median_time, session_for, web_app

LIMIT = "<= 50 ms at 1,000,000 addresses"


def _batch(contacts: int) -> list[str]:
    """1,000 addresses spread over the account's contacts; every tenth does not exist."""
    step = max(1, contacts // MAX_LOOKUP)
    out = []
    for i in range(MAX_LOOKUP):
        n = 1 + (i * step) % contacts
        if i % 10 == 9:
            out.append(f"nobody{i}@benchco.example")
        else:
            out.append(f"C{n}.{1 + i % 2}@BenchCo.example")
    return out


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """Fill one account of `size` addresses (two per contact), then time the lookups."""
    with fresh_database(backend, url) as engine:
        contacts = size // 2
        account_id = fill_account(engine, "Bench Co", contacts, fields=2, mix=True)
        user_id = make_user(engine, "bench@bench.example", Role.customer, account_id)
        addresses = _batch(contacts)

        with session_for(engine) as s:
            answers = lookup_addresses(s, account_id, addresses)
            assert sum(a.found for a in answers) == MAX_LOOKUP - MAX_LOOKUP // 10
            seconds = median_time(lambda: lookup_addresses(s, account_id, addresses), repeat=9)
        bench.record(
            Result(
                "send-time check, 1,000 addresses (query)", backend, seconds, rows=size, limit=LIMIT
            )
        )

        app = web_app(
            engine,
            WTF_CSRF_ENABLED=True,
            API_RATE_LIMIT="1000000/minute",
            LOG_LEVEL="WARNING",  # no line per call in the figures
        )
        with session_for(engine) as s:
            secret = create_token(s, s.get(User, user_id), "bench", "read", now_utc()).secret
            s.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}

        def call():
            response = client.post(
                "/api/v1/addresses/lookup", json={"addresses": addresses}, headers=headers
            )
            assert response.status_code == 200, response.status_code

        seconds = median_time(call, repeat=9)
        bench.record(
            Result("send-time check, 1,000 addresses (API call)", backend, seconds, rows=size)
        )
        with app.app_context():
            from support.extensions import db

            db.engine.dispose()
