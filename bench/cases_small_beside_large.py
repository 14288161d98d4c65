"""Issue 11 §4: a new 200-address account beside one of `size` addresses, every operation < 1 s.

The large account is filled first and analysed, so the planner's statistics say "one account
holds every row"; then a new account runs what a new customer does on its first day: import a
small file, the demo's mass opt-out (tag + name search), an undo request and a mass opt-in
request, their approvals, the contact list with each filter, a double opt-in campaign, the
send-time check, and the agent's queue and review pages. A plan that trusts a one-row guess for
the new account (nested loops over the large one) shows here as seconds or minutes.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from requests_queue.api_tokens import create_token
from requests_queue.blobs import BlobStore, put_file
from requests_queue.campaigns import (
    RecipientLinks,
    create_campaign,
    provided_content,
    run_campaign_queueing,
)
from requests_queue.imports import inspect_file, run_import, start_import
from requests_queue.mass_actions import Direction, mass_opt_out, preview
from requests_queue.models import (
    Account,
    ConsentRequest,
    EmailField,
    ImportBatch,
    Role,
    Tag,
    User,
)
from requests_queue.requests.approval import approve_request
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.filing import file_request
from requests_queue.requests.lifecycle import claim_request
from requests_queue.requests.targets import OptInTarget, UndoTarget
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind
from support.auth.passwords import hash_password

from .cases_requests import EVIDENCE
from .data import BENCH_PASSWORD, fill_account, make_user
from .harness import Bench, Result, fresh_database, median_time, session_for, timed, web_app

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
BASE_URL = "http://bench.example"
LINKS = RecipientLinks(secret="bench-secret", base_url="https://desk.example")
SMALL_CONTACTS = 100  # two addresses each: the 200-address account
FIELDS = (EmailField.email, EmailField.email2)
LIMIT = "< 1 s"
LAST_NAMES = ["Hill", "Baker", "Chen", "Diaz", "Evans"]


def write_small_csv(path: Path, contacts: int = SMALL_CONTACTS) -> None:
    """`contacts` rows of two addresses; one contact in five is a Hill (the demo's search)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("First Name,Last Name,Email,Email 2\r\n")
        for i in range(1, contacts + 1):
            last = LAST_NAMES[i % len(LAST_NAMES)]
            f.write(f"Small{i},{last},s{i}.1@small.example,s{i}.2@alt.small.example\r\n")


@dataclass
class SmallAccount:
    """What the operations learn about the new account as they go."""

    engine: sa.Engine
    tmp: Path
    agent_id: int
    name: str = "Small Co"
    account_id: int = 0
    user_id: int = 0
    batch_id: int = 0
    tag_id: int = 0
    mass_action_id: int = 0
    request_ids: dict[str, int] = field(default_factory=dict)

    @property
    def email(self) -> str:
        """The customer's login."""
        return "".join(ch for ch in self.name.lower() if ch.isalnum()) + "@bench.example"

    @property
    def customer(self) -> Actor:
        """The account's customer as the domain's actor."""
        return Actor(ActorKind.customer, self.user_id)

    @property
    def agent(self) -> Actor:
        """The support agent as the domain's actor."""
        return Actor(ActorKind.agent, self.agent_id)


@functools.cache
def _password_hash() -> str:
    """Argon2 costs the same whatever the data: hashed once, outside the timed operations."""
    return hash_password(BENCH_PASSWORD)


def _create_account(small: SmallAccount) -> None:
    with session_for(small.engine) as s:
        account = Account(name=small.name, created_at=NOW)
        s.add(account)
        s.flush()
        user = User(email=small.email, role=Role.customer, account_id=account.id,
                    password_hash=_password_hash())  # fmt: skip
        s.add(user)
        s.commit()
        small.account_id, small.user_id = account.id, user.id


def _import(small: SmallAccount) -> int:
    upload = small.tmp / f"{small.account_id}.csv"
    write_small_csv(upload)
    fmt = inspect_file(upload)
    with session_for(small.engine) as s:
        # Kept in the database, as the app does by default (UPLOAD_STORAGE=database).
        blob = put_file(BlobStore(), s, upload, account_id=small.account_id, now=NOW)
        batch = start_import(s, small.account_id, small.customer, fmt, blob.id, "small.csv",
                             fmt.mapping, False, "Newsletter", NOW)  # fmt: skip
        s.commit()
        small.batch_id = batch.id
    run_import(small.engine, small.batch_id, clock=lambda: NOW)
    with session_for(small.engine) as s:
        small.tag_id = s.scalar(
            sa.select(Tag.id).where(Tag.account_id == small.account_id, Tag.name == "Newsletter")
        )
        return s.get(ImportBatch, small.batch_id).created_count


def _demo_filter(small: SmallAccount) -> ContactFilter:
    """`flask seed-demo`'s mass opt-out selection: a tag and the search "hill"."""
    return ContactFilter(account_id=small.account_id, tag_id=small.tag_id, search="hill")


def _preview(small: SmallAccount) -> int:
    with session_for(small.engine) as s:
        return preview(s, _demo_filter(small), FIELDS, Direction.opt_out).changing


def _mass_opt_out(small: SmallAccount) -> int:
    with session_for(small.engine) as s:
        flt = _demo_filter(small)
        expected = preview(s, flt, FIELDS, Direction.opt_out).changing
        batch = mass_opt_out(s, flt, FIELDS, small.customer, NOW, expected)
        s.commit()
        small.mass_action_id = batch.id
        return batch.changed_count


def _file(small: SmallAccount, kind: str) -> int:
    with session_for(small.engine) as s:
        if kind == "undo":
            target = UndoTarget(small.account_id, small.mass_action_id)
        else:
            target = OptInTarget(ContactFilter(account_id=small.account_id), FIELDS)
        req = file_request(s, target, EVIDENCE, small.customer, NOW, base_url=BASE_URL)
        s.commit()
        small.request_ids[kind] = req.id
        return req.address_count


def _approve(small: SmallAccount, kind: str) -> int:
    with session_for(small.engine) as s:
        req = s.get(ConsentRequest, small.request_ids[kind])
        claim_request(s, req, small.agent, NOW)
        done = approve_request(s, req, small.agent, NOW,
                               checklist=[k for k, _ in CHECKLIST], base_url=BASE_URL)  # fmt: skip
        s.commit()
        return done.changed_count


def _campaign(small: SmallAccount) -> int:
    with session_for(small.engine) as s:
        campaign = create_campaign(s, ContactFilter(account_id=small.account_id), FIELDS,
                                   provided_content(), small.customer, NOW)  # fmt: skip
        s.commit()
        campaign_id = campaign.id
    run_campaign_queueing(small.engine, campaign_id, LINKS, clock=lambda: NOW)
    return campaign_id


def operations(small: SmallAccount) -> Iterator[tuple[str, Callable[[], object]]]:
    """(label, run-once callable) for every write a new account's first day makes, in order."""
    yield (
        "create the account and its customer (password hashed before)",
        lambda: _create_account(small),
    )
    yield "import a 200-address CSV (background run)", lambda: _import(small)
    yield "mass opt-out preview (tag + search)", lambda: _preview(small)
    yield "mass opt-out as flask seed-demo runs it (tag + search)", lambda: _mass_opt_out(small)
    yield "file an undo request for that mass opt-out", lambda: _file(small, "undo")
    yield "file a mass opt-in request (every address)", lambda: _file(small, "opt_in")
    yield "claim and approve the mass opt-in", lambda: _approve(small, "opt_in")
    yield "claim and approve the undo", lambda: _approve(small, "undo")
    yield "double opt-in campaign: click and queue in the background", lambda: _campaign(small)


# What each write returns when it did its work: imported contacts, addresses changed or frozen.
EXPECTED = {
    "import a 200-address CSV (background run)": SMALL_CONTACTS,
    "mass opt-out preview (tag + search)": 40,
    "mass opt-out as flask seed-demo runs it (tag + search)": 40,
    "file an undo request for that mass opt-out": 40,
    "file a mass opt-in request (every address)": 160,
    "claim and approve the mass opt-in": 160,
    "claim and approve the undo": 40,
}


def pages(small: SmallAccount) -> list[tuple[str, str, str]]:
    """(label, who, URL) of every page and API call of the account, read after the writes."""
    acc, req = small.account_id, small.request_ids.get("opt_in", 0)
    return [
        ("contact list, unfiltered", "customer", "/contacts"),
        ("contact list, by status", "customer", "/contacts?status=single_opt_in"),
        ("contact list, by a rare status", "customer", "/contacts?status=opted_out_by_user"),
        ("contact list, by tag", "customer", f"/contacts?tag={small.tag_id}"),
        ("contact list, by import batch", "customer", f"/contacts?batch={small.batch_id}"),
        (
            "contact list, tag + status",
            "customer",
            f"/contacts?tag={small.tag_id}&status=single_opt_in",
        ),  # fmt: skip
        ("contact list, name search", "customer", "/contacts?q=hill"),
        ("contact list, address search", "customer", "/contacts?q=s1"),
        ("agent queue, the account's requests", "agent", f"/desk/?account={acc}&state="),
        ("agent queue, first page", "agent", "/desk/"),
        ("agent review page of the mass opt-in", "agent", f"/desk/requests/{req}"),
    ]


def _clients(small: SmallAccount, app) -> dict:
    customer, agent = app.test_client(), app.test_client()
    for client, email in ((customer, small.email), (agent, "agent@bench.example")):
        response = client.post("/login", data={"email": email, "password": BENCH_PASSWORD})
        assert response.status_code == 302, response.status_code
    return {"customer": customer, "agent": agent}


def _lookup(small: SmallAccount, app) -> Callable[[], object]:
    with session_for(small.engine) as s:
        user = s.get(User, small.user_id)
        secret = create_token(s, user, "bench", "read", NOW).secret
        s.commit()
    client = app.test_client()
    body = {
        "addresses": [f"S{i}.{k}@small.example" for i in range(1, 101) for k in (1, 2)],
    }
    headers = {"Authorization": f"Bearer {secret}"}

    def call():
        response = client.post("/api/v1/addresses/lookup", json=body, headers=headers)
        assert response.status_code == 200, response.status_code

    return call


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """Fill the large account, then time every operation of a new 200-address account."""
    with fresh_database(backend, url) as engine, tempfile.TemporaryDirectory() as tmp:
        fill_account(engine, "Large Co", size // 2, fields=2, mix=True)
        agent = make_user(engine, "agent@bench.example", Role.agent)
        # A running app has its SQL compiled and its templates loaded: a first account's day
        # goes untimed, then a second new account (equally unknown to the statistics) is timed.
        for _, op in operations(SmallAccount(engine, Path(tmp), agent, name="Warm-up Co")):
            op()
        small = SmallAccount(engine, Path(tmp), agent)
        case = f"small beside {size:,}"
        for label, op in operations(small):
            seconds, done = timed(op)
            assert done == EXPECTED.get(label, done), (label, done)  # the work was done
            bench.record(Result(f"{case}: {label}", backend, seconds, rows=200, limit=LIMIT))
        # Every view rendered: a kept queue page would time a repeat view, not the page.
        app = web_app(
            engine, API_RATE_LIMIT="1000000/minute", LOG_LEVEL="WARNING", QUEUE_CACHE_PAGES=0
        )
        clients = _clients(small, app)
        for label, who, path in pages(small):

            def fetch(client=clients[who], path=path):
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            seconds = median_time(fetch, repeat=3)
            bench.record(Result(f"{case}: page {label}", backend, seconds, rows=200, limit=LIMIT))
        seconds = median_time(_lookup(small, app), repeat=3)
        bench.record(Result(f"{case}: send-time check API, 200 addresses", backend, seconds,
                            rows=200, limit=LIMIT))  # fmt: skip
        with app.app_context():
            from support.extensions import db

            db.engine.dispose()
