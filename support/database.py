"""Engine settings that make SQLite a first-class database: WAL, foreign keys, a busy wait."""

import sqlalchemy as sa
from flask import Flask

from .extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def register_database(app: Flask) -> None:
    """Bind Flask-SQLAlchemy and set the SQLite pragmas on every new connection."""
    # A failed statement's parameters can hold recipient tokens and addresses: errors and
    # logs name the statement only.
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("hide_parameters", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            engine.dispose()  # connections opened before the listener get the pragmas too
