"""The load test's data: 1,000,000 addresses in one customer's account, 100,000 requests over
1,000 other accounts, the people who work them, and an API token. Set-based, as the bench."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import sqlalchemy as sa

from bench.cases_requests import NOW
from bench.data import BENCH_PASSWORD, analyze, fill_account, fill_requests, make_user, settle
from bench.harness import session_for
from requests_queue.calendar_store import load_calendar
from requests_queue.models import Role, User
from requests_queue.sla.clock import calendar_key
from requests_queue.sla.deadlines import refresh_stale_clocks
from support import ROOT

PASSWORD = BENCH_PASSWORD
CUSTOMER = "customer@load.example"
MANAGER = "manager@load.example"
AGENTS = [f"agent{i}@load.example" for i in range(3)]
ACCOUNT = "Load Co"  # addresses c<n>.<1|2>@loadco.example
CONTACTS = 500_000  # × 2 fields = 1,000,000 addresses
REQUESTS = 100_000


def _flask(url: str, *args: str) -> str:
    env = dict(os.environ, DATABASE_URL=url, FLASK_APP="app", SECRET_KEY="loadtest")
    done = subprocess.run(
        [sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout


def is_seeded(engine: sa.Engine) -> bool:
    """The data is there already (`--reuse` skips the minutes it takes)."""
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(sa.select(User.id).where(User.email == CUSTOMER)))
    except sa.exc.DBAPIError:
        return False


def seed(url: str, contacts: int = CONTACTS, requests: int = REQUESTS) -> str:
    """Migrate an empty database and fill it; returns a read API token of the customer."""
    _flask(url, "db", "upgrade")
    engine = sa.create_engine(url)
    agents = [make_user(engine, email, Role.agent) for email in AGENTS]
    make_user(engine, MANAGER, Role.manager)
    account = fill_account(engine, ACCOUNT, contacts, fields=2, mix=True)
    make_user(engine, CUSTOMER, Role.customer, account)
    fill_requests(engine, requests, NOW, accounts=1000, agents=agents)
    store_clocks(engine)
    analyze(engine)
    settle(engine)
    engine.dispose()
    return api_token(url)


def prepare(url: str) -> None:
    """Bring a reused database to the code's schema and clocks."""
    _flask(url, "db", "upgrade")
    engine = sa.create_engine(url)
    store_clocks(engine)
    engine.dispose()


def store_clocks(engine: sa.Engine) -> None:
    """Every request's SLA clock, as the scheduler's first sweep would store it (plain SQL
    wrote none): the load starts on a database in its steady state."""
    with session_for(engine) as session:
        calendar = load_calendar(session)
        refresh_stale_clocks(session, calendar, calendar_key(calendar))
        session.commit()


def api_token(url: str) -> str:
    """A new read token of the customer (the send-time check's caller)."""
    name = f"loadtest {time.time():.0f}"
    out = _flask(url, "create-token", CUSTOMER, "--name", name, "--scope", "read")
    return out.strip().splitlines()[-1]
