"""Set-based generation of large accounts for the bench (no Python loop over rows)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.models import Account, Role, Tag, User
from requests_queue.requests import queue_tally
from requests_queue.statuses import EmailStatus
from support.auth.passwords import hash_password

CREATED = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
# With mix=True, one address in twenty of each of these, the rest `status`.
MIX = [
    EmailStatus.opted_out_by_recipient,
    EmailStatus.hard_bounce,
    EmailStatus.spam_complaint,
    EmailStatus.opted_out_by_user,
    EmailStatus.double_opt_in,
]


def _numbers(engine: sa.Engine, count: int) -> str:
    """A FROM clause yielding n = 1..count on either database."""
    if engine.dialect.name == "postgresql":
        return f"generate_series(1, {int(count)}) AS seq(n)"
    return (
        f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {int(count)}) "
        "SELECT n FROM s) AS seq"
    )


def slug_of(name: str) -> str:
    """The account's slug in the addresses fill_account writes (`c<n>.<field>@<slug>.example`)."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def fill_account(
    engine: sa.Engine,
    name: str,
    contacts: int,
    fields: int = 2,
    status: EmailStatus = EmailStatus.non_marketable,
    mix: bool = False,
) -> int:
    """Create an account with `contacts` contacts × `fields` addresses and their creation events.

    Every third contact carries the tag "Bench". Addresses are
    `c<n>.<field>@<account-slug>.example`. Returns the account id.
    """
    slug = slug_of(name)
    with engine.begin() as conn:
        account_id = conn.execute(
            sa.insert(Account).values(name=name, created_at=CREATED).returning(Account.id)
        ).scalar_one()
        tag_id = conn.execute(
            sa.insert(Tag).values(account_id=account_id, name="Bench").returning(Tag.id)
        ).scalar_one()
        base = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM contacts")).scalar_one()
        created = CREATED.replace(tzinfo=None)
        conn.execute(
            sa.text(
                "INSERT INTO contacts (id, account_id, first_name, last_name, first_name_key, "
                "last_name_key, company, phone, created_at) "
                f"SELECT :base + n, :acc, 'First' || n, 'Last' || n, 'first' || n, 'last' || n, "
                f"'', '', :created FROM {_numbers(engine, contacts)}"
            ),
            {"base": base, "acc": account_id, "created": created},
        )
        conn.execute(
            sa.text(
                "INSERT INTO contact_tags (contact_id, tag_id) "
                f"SELECT :base + n, :tag FROM {_numbers(engine, contacts)} WHERE n % 3 = 0"
            ),
            {"base": base, "tag": tag_id},
        )
        status_sql = f"'{status.value}'"
        if mix:
            whens = " ".join(f"WHEN {i} THEN '{s.value}'" for i, s in enumerate(MIX))
            status_sql = f"CASE (n % 20) {whens} ELSE '{status.value}' END"
        for k in range(1, fields + 1):
            field = "email" if k == 1 else f"email{k}"
            conn.execute(
                sa.text(
                    "INSERT INTO email_addresses (account_id, contact_id, field, address, status, "
                    "status_changed_at) "
                    f"SELECT :acc, :base + n, '{field}', 'c' || n || '.{k}@{slug}.example', "
                    f"{status_sql}, :created FROM {_numbers(engine, contacts)}"
                ),
                {"base": base, "acc": account_id, "created": created},
            )
        conn.execute(
            sa.text(
                "INSERT INTO status_events (account_id, address_id, from_status, to_status, "
                "created_at, actor_kind, note) "
                "SELECT account_id, id, NULL, status, status_changed_at, 'system', 'bench fill' "
                "FROM email_addresses WHERE account_id = :acc"
            ),
            {"acc": account_id},
        )
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # explicit ids above: move the sequence past them
            conn.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('contacts', 'id'), "
                    "(SELECT max(id) FROM contacts))"
                )
            )
    analyze(engine)
    return account_id


BENCH_PASSWORD = "bench-password"


def make_user(
    engine: sa.Engine, email: str, role: Role, account_id: int | None = None, name: str = ""
) -> int:
    """Create a bench user (password BENCH_PASSWORD); return its id."""
    with Session(engine) as session:
        user = User(
            email=email,
            role=role,
            account_id=account_id,
            name=name,
            password_hash=hash_password(BENCH_PASSWORD),
        )
        session.add(user)
        session.commit()
        return user.id


def analyze(engine: sa.Engine) -> None:
    """Refresh the planner's statistics after a bulk fill, as a running database would have."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))


def settle(engine: sa.Engine) -> None:
    """VACUUM after a bulk fill or a bulk change, as autovacuum would have long done on a
    database in use: it marks the pages all-visible, so reads covered by an index read the
    index alone. Then CHECKPOINT, so the next timed run does not pay for writing out the
    pages the previous one dirtied (each timed bulk run, floors included, starts settled)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(sa.text("VACUUM"))
            conn.execute(sa.text("CHECKPOINT"))


def fill_requests(
    engine: sa.Engine, count: int, now: datetime, accounts: int, agents: list[int]
) -> None:
    """`count` requests over `accounts` accounts, a quarter open, filed a minute apart before
    `now`, in set-based statements (the queue's bench and the load test's seed)."""
    with engine.begin() as conn:
        base = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM accounts")).scalar_one()
        conn.execute(
            sa.text(
                f"INSERT INTO accounts (id, name, created_at) SELECT :b + n, 'Account ' || n, :now "
                f"FROM {_numbers(engine, accounts)}"
            ),
            {"b": base, "now": now.replace(tzinfo=None)},
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
            {"u": ubase, "b": base, "now": now.replace(tzinfo=None)},
        )
        mbase = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM mass_actions")).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO mass_actions (id, account_id, user_id, kind, selection, fields, "
                "changed_count, skipped_count, skipped_by_reason, created_at) "
                "SELECT :m + n, :b + n, :u + n, 'opt_out', 'all', 'email', 1, 0, '{}', :now "
                f"FROM {_numbers(engine, accounts)}"
            ),
            {"m": mbase, "u": ubase, "b": base, "now": now.replace(tzinfo=None)},
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
            {"b": base, "u": ubase, "m": mbase, "now": now.replace(tzinfo=None)},
        )
    with Session(engine) as session:  # the queue's counts, as the tally_queue job keeps them
        queue_tally.fold(session)
        session.commit()
    analyze(engine)
