"""Set-based generation of large accounts for the bench (no Python loop over rows)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from requests_queue.models import Account, Role, Tag, User
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
    slug = "".join(ch for ch in name.lower() if ch.isalnum())
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
