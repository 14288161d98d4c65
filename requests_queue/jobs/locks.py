"""One active scheduler per database.

PostgreSQL: a session-level advisory lock held on a dedicated connection. The server releases
it when that connection dies (process killed, machine gone), so a waiting scheduler takes over.
SQLite: an exclusive `flock` on a file beside the database; the kernel drops it with the process.
"""

from __future__ import annotations

import fcntl
import logging
import os
import zlib
from pathlib import Path

import sqlalchemy as sa

log = logging.getLogger(__name__)

# A fixed 32-bit key, so every Consent Desk scheduler on one database contends for the same lock.
ADVISORY_KEY = zlib.crc32(b"consent-desk:scheduler")


class SchedulerLock:
    """What the scheduler loop needs from a lock."""

    def acquire(self) -> bool:
        """Take the lock if free; False (immediately) when another scheduler holds it."""
        raise NotImplementedError

    def is_held(self) -> bool:
        """Still ours (checked every poll; a dead connection means it is gone)."""
        raise NotImplementedError

    def release(self) -> None:
        """Give the lock up (safe to call when not held)."""
        raise NotImplementedError

    def describe(self) -> str:
        """Where the lock lives, for log lines and error messages."""
        raise NotImplementedError


class AdvisoryLock(SchedulerLock):
    """`pg_try_advisory_lock` on a connection kept open for as long as the lock is held."""

    def __init__(self, engine: sa.Engine, key: int = ADVISORY_KEY) -> None:
        self.engine = engine
        self.key = key
        self.conn: sa.Connection | None = None
        self.held = False

    def _connection(self) -> sa.Connection:
        if self.conn is None:
            self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self.conn

    def acquire(self) -> bool:
        try:
            got = self._connection().scalar(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            )
        except sa.exc.DBAPIError:
            self._drop()
            raise
        self.held = bool(got)
        return self.held

    def is_held(self) -> bool:
        if not self.held or self.conn is None:
            return False
        try:
            count = self.conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND objid = :key"
                ),
                {"key": self.key},
            )
        except sa.exc.DBAPIError:
            log.warning("lost the scheduler lock's connection", exc_info=True)
            self._drop()
            return False
        return bool(count)

    def release(self) -> None:
        if self.conn is not None and self.held:
            try:
                self.conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except sa.exc.DBAPIError:
                log.warning("could not unlock; closing the connection releases it", exc_info=True)
        self._drop()

    def _drop(self) -> None:
        self.held = False
        if self.conn is not None:
            # Closed for real, not returned to the pool: the server forgets the lock with it.
            self.conn.invalidate()
            self.conn.close()
            self.conn = None

    def describe(self) -> str:
        return f"PostgreSQL advisory lock {self.key} on {self.engine.url.render_as_string()}"


class FileLock(SchedulerLock):
    """An exclusive, non-blocking `flock` on `path`; the file names the holder's pid."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.fd: int | None = None

    def acquire(self) -> bool:
        if self.fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def is_held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def holder_pid(self) -> str:
        """The pid written by whoever holds the lock ("?" if unreadable)."""
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def describe(self) -> str:
        return f"lock file {self.path}"


def lock_for(engine: sa.Engine, fallback_dir: Path) -> SchedulerLock:
    """The lock that fits the database behind `engine`."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:" and not database.startswith("file:"):
        return FileLock(Path(database + ".scheduler.lock"))
    return FileLock(Path(fallback_dir) / "scheduler.lock")
