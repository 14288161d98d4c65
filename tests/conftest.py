"""Shared fixtures: the app on SQLite (and PostgreSQL when TEST_DATABASE_URL is set),
an HTTP client with CSRF switched on, login helpers and creators for domain objects."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import g
from sqlalchemy.engine import make_url

from requests_queue.contacts import ContactData, create_contact
from requests_queue.models import Account, Base, EmailField, Role, User
from requests_queue.statuses import Actor, ActorKind
from support import create_app
from support.auth.passwords import hash_password
from support.extensions import db as _db
from tests import hypothesis_profiles  # noqa: F401  (registers and loads the profile)

PASSWORD = "correct-horse-1"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

_pg_ready = False


def _normalised(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _worker_database(url: str) -> str:
    """Under pytest-xdist (`make test` runs a worker per core) each worker gets a database of its
    own beside TEST_DATABASE_URL's, `<name>_gw0`, `<name>_gw1`…, created when missing: workers
    truncate and rebuild their schema between tests and must not do it under each other."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(_normalised(url))
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("TEST_DATABASE_URL", ""))
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_url() -> str:
    return _normalised(PG_URL)


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres_only run only in their PostgreSQL variant."""
    keep, drop = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("backend")
        if item.get_closest_marker("postgres_only") and backend != "postgresql":
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The database the test runs on."""
    return request.param


@pytest.fixture
def app(backend, tmp_path):
    """A fresh app with an empty schema on the chosen database."""
    global _pg_ready
    url = f"sqlite:///{tmp_path / 'test.sqlite'}" if backend == "sqlite" else _pg_url()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "RATELIMIT_STORAGE_URI": "memory://",  # each app counts failed logins on its own
            "SERVER_NAME": "localhost",
            "PREFERRED_URL_SCHEME": "http",
        }
    )
    with app.app_context():
        if backend == "sqlite":
            _db.create_all()
        else:
            if not _pg_ready:
                # Every table there, also one an earlier schema had and the models no longer
                # name (it would keep a table they name from being dropped).
                found = sa.MetaData()
                found.reflect(_db.engine)
                found.drop_all(_db.engine)
                Base.metadata.create_all(_db.engine)
                _pg_ready = True
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            with _db.engine.begin() as conn:
                conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """The Flask-SQLAlchemy handle inside the app context."""
    return _db


@pytest.fixture
def session(db):
    """The scoped session the app uses."""
    return db.session


def _empty_g() -> None:
    # Requests reuse the test's app context, so `g` would carry one request's logged-in user
    # (Flask-Login) and CSRF token into the next, another client's too; a server starts each
    # request with an empty `g`, so the session cookie alone decides who is logged in.
    for key in list(g):
        g.pop(key)


class Client:
    """The Flask test client plus CSRF tokens read from the page, as a browser would."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def get(self, url, **kw):
        _empty_g()
        return self.http.get(url, **kw)

    def csrf_token(self) -> str:
        page = self.get("/login").get_data(as_text=True)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token())
        _empty_g()
        return self.http.post(url, data=data, **kw)

    def login(self, email: str, password: str = PASSWORD):
        return self.post("/login", {"email": email, "password": password})

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def client(app) -> Client:
    """An HTTP client with CSRF protection on."""
    return Client(app)


@pytest.fixture
def make_account(session):
    """Create an account: make_account("Acme")."""

    def make(name: str = "Acme") -> Account:
        account = Account(name=name)
        session.add(account)
        session.commit()
        return account

    return make


@pytest.fixture
def make_user(session):
    """Create a user: make_user("a@x.example", Role.customer, account)."""

    def make(email: str, role: Role = Role.customer, account: Account | None = None) -> User:
        user = User(email=email, role=role, account=account, password_hash=hash_password(PASSWORD))
        session.add(user)
        session.commit()
        return user

    return make


@pytest.fixture
def make_contact(session):
    """Create a contact with addresses: make_contact(user, email="a@x.example", consent=True)."""

    def make(
        user: User,
        first_name: str = "Test",
        last_name: str = "Person",
        consent: bool = False,
        tags: tuple[str, ...] = (),
        **emails: str,
    ):
        data = ContactData(
            first_name=first_name,
            last_name=last_name,
            emails={EmailField(k): v for k, v in emails.items()},
            tag_names=tags,
            consent_recorded=consent,
        )
        contact = create_contact(
            session, user.account_id, data, Actor(ActorKind.customer, user.id), NOW
        )
        session.commit()
        return contact

    return make


@pytest.fixture
def customer(make_account, make_user) -> User:
    """A customer of account "Acme"."""
    return make_user("owner@acme.example", Role.customer, make_account("Acme"))


@pytest.fixture
def other_customer(make_account, make_user) -> User:
    """A customer of another account, "Globex"."""
    return make_user("owner@globex.example", Role.customer, make_account("Globex"))


@pytest.fixture
def agent(make_user) -> User:
    """A support agent."""
    return make_user("agent@support.example", Role.agent)


@pytest.fixture
def manager(make_user) -> User:
    """A support manager."""
    return make_user("manager@support.example", Role.manager)


@pytest.fixture
def smtp_sink():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, keeping what it receives.

    `smtp_sink.messages`, `smtp_sink.to(address)`, `smtp_sink.transport()` for the sender,
    `smtp_sink.config()` for an app, `smtp_sink.answer(address, "451 …", …)` to script refusals.
    """
    from tests.smtp_sink import SmtpSink

    with SmtpSink() as sink:
        yield sink


# --- Requests (issue 5): evidence that passes every rule, and a one-call filed request ---

REQUEST_BASE_URL = "http://desk.example"


def actor_of(user: User) -> Actor:
    """The domain actor for a user."""
    return Actor(ActorKind(user.role.value), user.id)


@pytest.fixture
def evidence():
    """Evidence that passes every rule of DOMAIN.md."""
    from tests.evidence import GOOD_EVIDENCE

    return GOOD_EVIDENCE


@pytest.fixture
def file_opt_in(session, make_contact, evidence):
    """File a mass opt-in of `n` new non-marketable addresses: file_opt_in(customer, n=3)."""
    from requests_queue.requests.filing import file_request
    from requests_queue.requests.targets import OptInTarget
    from requests_queue.selection import ContactFilter

    def file(user: User, n: int = 3, prefix: str = "p"):
        slug = user.account.name.lower()
        for i in range(n):
            make_contact(user, first_name=f"{prefix}{i}", email=f"{prefix}{i}@{slug}.example")
        target = OptInTarget(ContactFilter(user.account_id), (EmailField.email,))
        req = file_request(
            session, target, evidence, actor_of(user), NOW, base_url=REQUEST_BASE_URL
        )
        session.commit()
        return req

    return file


@pytest.fixture
def make_campaign(session):
    """Queue a double opt-in campaign: make_campaign(user, fields=("email",), **filter)."""
    from requests_queue.campaigns import RecipientLinks, provided_content
    from requests_queue.selection import ContactFilter
    from tests.campaign_queue import queue_campaign

    def make(user: User, fields=("email",), at=NOW, content=None, **filter_args):
        campaign = queue_campaign(
            session,
            ContactFilter(account_id=user.account_id, **filter_args),
            tuple(EmailField(f) for f in fields),
            content or provided_content(),
            Actor(ActorKind.customer, user.id),
            at,
            RecipientLinks(secret="test-secret", base_url="http://localhost"),
        )
        session.commit()
        return campaign

    return make


# --- Reports (issue 6): a request whose whole timeline a test writes down ---


def play_timeline(session, customer: User, steps, *, base_url: str = REQUEST_BASE_URL):
    """File a one-address mass opt-in and play its timeline through the domain operations.

    `steps` is [(when, "file", customer), (when, action, user[, assignee]), ...] with actions
    claim, assign (to `assignee`), ask, answer, approve, reject and withdraw. Commits.
    """
    import uuid

    from requests_queue.models import RejectReason
    from requests_queue.requests import lifecycle as ops
    from requests_queue.requests.approval import approve_request
    from requests_queue.requests.evidence import CHECKLIST
    from requests_queue.requests.filing import file_request
    from requests_queue.requests.targets import OptInTarget
    from requests_queue.selection import ContactFilter

    filed_at = steps[0][0]
    slug = f"tl{uuid.uuid4().hex[:10]}"
    data = ContactData(
        first_name=slug,
        last_name="Timeline",
        emails={EmailField.email: f"{slug}@timeline.example"},
        tag_names=(),
        consent_recorded=False,
    )
    create_contact(session, customer.account_id, data, actor_of(customer), filed_at)
    from tests.evidence import GOOD_EVIDENCE as evidence

    target = OptInTarget(ContactFilter(customer.account_id, search=slug), (EmailField.email,))
    req = file_request(session, target, evidence, actor_of(customer), filed_at, base_url=base_url)
    for when, action, user, *assignee in steps[1:]:
        who = actor_of(user)
        if action == "claim":
            ops.claim_request(session, req, who, when)
        elif action == "assign":
            ops.assign_request(session, req, assignee[0], who, when)
        elif action == "ask":
            ops.ask_customer(session, req, "Which form?", who, when, base_url=base_url)
        elif action == "answer":
            ops.answer_question(session, req, "The newsletter.", who, when, base_url=base_url)
        elif action == "approve":
            checklist = [key for key, _ in CHECKLIST]
            approve_request(session, req, who, when, checklist=checklist, base_url=base_url)
        elif action == "reject":
            reason = RejectReason.insufficient_evidence
            ops.reject_request(session, req, reason, "Not enough.", who, when, base_url=base_url)
        elif action == "withdraw":
            ops.withdraw_request(session, req, who, when)
        else:
            raise ValueError(f"unknown timeline action {action!r}")
    session.commit()
    return req
