"""`/healthz` (the process answers) and `/readyz` (it can do its work), JSON, no login.

Load balancers and supervisors call these; so can anyone, so they say what is wrong in
words and never name a host, a URL, a user or a secret.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify

from requests_queue.jobs.readiness import Check, OutboxLimits, outbox_check, scheduler_check
from requests_queue.now import now_utc

from . import ROOT
from .extensions import db

bp = Blueprint("health", __name__)
RETRY_AFTER_SECONDS = 30


@cache
def migration_heads() -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code (read once)."""
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _migrations_check(connection: sa.Connection) -> Check:
    current = frozenset(MigrationContext.configure(connection).get_current_heads())
    heads = migration_heads()
    if current == heads:
        return Check("migrations", True, "at head")
    if not current:
        return Check("migrations", False, "the database was never migrated: run `flask db upgrade`")
    return Check("migrations", False, "not at head: run `flask db upgrade`")


def readiness_checks() -> list[Check]:
    """Every readiness fact, in order; after an unreachable database nothing else is asked."""
    config = current_app.config
    limits = OutboxLimits(
        max_backlog=config["READY_OUTBOX_MAX_BACKLOG"],
        max_age=timedelta(minutes=config["READY_OUTBOX_MAX_AGE_MINUTES"]),
    )
    try:
        checks = [Check("database", True, "reachable")]
        checks.append(_migrations_check(db.session.connection()))
        now = now_utc()
        checks.append(scheduler_check(db.session, now))
        checks.append(outbox_check(db.session, now, limits))
        db.session.rollback()  # a read-only check: end its transaction, nothing to commit
    except sa.exc.DBAPIError:
        db.session.rollback()  # the connection failed: give it back clean for the next check
        current_app.logger.warning("readiness: database unreachable", exc_info=True)
        return [Check("database", False, "unreachable")]
    return checks


@bp.route("/healthz")
def healthz():
    """The process is up and answering (asks nothing of the database)."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """200 when database, migrations, scheduler and outbox are fine; 503 with the reasons."""
    checks = readiness_checks()
    ready = all(c.ok for c in checks)
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        "reasons": [f"{c.name}: {c.detail}" for c in checks if not c.ok],
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    if not ready:
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def register_health(app: Flask) -> None:
    """Mount the two endpoints at the site's root."""
    app.register_blueprint(bp)
