"""Physical floors (issue 11, "The bench"): what the database itself needs for a bulk case,
measured on the same database in the same run, with none of our schema's own costs.

A status change's floor updates each address's status in place and writes one narrow row per
address (address, change set, from, to) into a scratch table with no key, no index and no
foreign key. A filing's floor writes the selected addresses' ids into such a table.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa


def _scratch(engine: sa.Engine, name: str, columns: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE TABLE {name} ({columns})")


def status_change(
    engine: sa.Engine, where: str, params: dict, to_status: str, now: datetime
) -> int:
    """Move the addresses matching `where` (SQL on email_addresses, with `params`) to
    `to_status`, one bare row each in the scratch table; how many moved (one transaction)."""
    _scratch(
        engine,
        "bench_physical_events",
        "address_id BIGINT, change_set INTEGER, from_status VARCHAR(32), to_status VARCHAR(32)",
    )
    p = {**params, "to": to_status, "now": now.replace(tzinfo=None)}
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO bench_physical_events SELECT id, 1, status, :to "
                f"FROM email_addresses WHERE {where}"
            ),
            p,
        )
        return conn.execute(
            sa.text(
                f"UPDATE email_addresses SET status = :to, status_changed_at = :now WHERE {where}"
            ),
            p,
        ).rowcount


def selection(engine: sa.Engine, where: str, params: dict) -> int:
    """Write the ids of the addresses matching `where` into the scratch table (what freezing
    a selection needs at least); how many."""
    _scratch(engine, "bench_physical_selection", "address_id BIGINT")
    with engine.begin() as conn:
        return conn.execute(
            sa.text(
                f"INSERT INTO bench_physical_selection SELECT id FROM email_addresses WHERE {where}"
            ),
            params,
        ).rowcount
