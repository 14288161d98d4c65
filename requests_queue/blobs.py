"""Where uploaded files are kept so that every host reaches them (issue 11, section 2).

`UPLOAD_STORAGE` chooses where new files go: `database` (the default: chunks of
CHUNK_BYTES in `blob_chunks`) or `directory:/absolute/path` (a directory every host mounts
at that same path). Either way a file is written and read a chunk at a time, so a 200 MB
import file is never held in memory. A blob records where it went, so a file written before
the setting changed is still read from where it is.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import DomainError
from .models.files import Blob, BlobChunk

CHUNK_BYTES = 1 << 20
# A file this store wrote: "<blob id>-<16 hex digits>", or that name + ".part" while written.
FILE_NAME = re.compile(r"(?P<blob_id>[0-9]+)-[0-9a-f]{16}(?P<part>\.part)?")
# A file younger than this may belong to a transaction that has not committed yet.
STRAY_AFTER = timedelta(hours=1)


class BlobMissing(DomainError):
    """The blob's row or its bytes are gone (deleted, or the shared directory is not mounted)."""


class BlobTooLarge(DomainError):
    """The file grew past the limit given to `BlobStore.put`; nothing of it was kept."""

    def __init__(self, limit: int):
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class BlobStore:
    """Where new files are written: the database (`directory` None) or a shared directory."""

    directory: Path | None = None

    @classmethod
    def from_setting(cls, setting: str) -> BlobStore:
        """The store an UPLOAD_STORAGE value names: `database` or `directory:/absolute/path`."""
        setting = (setting or "").strip()
        if setting in ("", "database"):
            return cls()
        kind, _, path = setting.partition(":")
        if kind != "directory" or not path:
            raise ValueError(f"UPLOAD_STORAGE must be database or directory:/path, not {setting!r}")
        if not Path(path).is_absolute():
            # Blobs record their path: every host must see the file under the same name.
            raise ValueError(f"UPLOAD_STORAGE's directory must be an absolute path: {path!r}")
        return cls(Path(path))

    @property
    def description(self) -> str:
        """For logs and the README's words: where new files go."""
        return "the database" if self.directory is None else f"directory {self.directory}"

    def put(
        self,
        session: Session,
        source: BinaryIO,
        *,
        account_id: int,
        now: datetime,
        limit: int | None = None,
    ) -> Blob:
        """Store what `source` holds from where it stands, a chunk at a time; flush, no commit.

        Raises BlobTooLarge past `limit` bytes (nothing is kept; the caller rolls back).
        """
        blob = Blob(account_id=account_id, created_at=now, size=0, sha256="", path="")
        session.add(blob)
        session.flush()
        digest, size = hashlib.sha256(), 0

        def pieces():
            nonlocal size
            while piece := source.read(CHUNK_BYTES):
                size += len(piece)
                if limit is not None and size > limit:
                    raise BlobTooLarge(limit)
                digest.update(piece)
                yield piece

        if self.directory is None:
            for seq, piece in enumerate(pieces()):
                session.execute(sa.insert(BlobChunk).values(blob_id=blob.id, seq=seq, data=piece))
        else:
            blob.path = str(_write_file(self.directory, blob.id, pieces()))
        blob.size, blob.sha256 = size, digest.hexdigest()
        session.flush()
        return blob


def _write_file(directory: Path, blob_id: int, pieces) -> Path:
    """Write to a partial file renamed into place, so a reader never sees half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    # The random part keeps a file of another database (or a restored one) from being reused.
    target = directory / f"{blob_id}-{secrets.token_hex(8)}"
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as out:
            for piece in pieces:
                out.write(piece)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


class _ChunkReader(io.RawIOBase):
    """A blob's chunks read one at a time, each in a short transaction of its own.

    Short reads keep a reader from holding a snapshot open while a writer (an import's own
    connection) commits chunk after chunk.
    """

    def __init__(self, engine: sa.Engine, blob_id: int):
        self._engine, self._blob_id = engine, blob_id
        self._seq, self._buffer, self._offset, self._pos = 0, b"", 0, 0
        self._ended = False

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def readinto(self, target) -> int:
        while self._offset >= len(self._buffer):
            if self._ended or not self._fetch():
                return 0
        n = min(len(target), len(self._buffer) - self._offset)
        target[:n] = self._buffer[self._offset : self._offset + n]
        self._offset += n
        self._pos += n
        return n

    def _fetch(self) -> bool:
        with self._engine.connect() as conn:
            data = conn.scalar(
                sa.select(BlobChunk.data).where(
                    BlobChunk.blob_id == self._blob_id, BlobChunk.seq == self._seq
                )
            )
        if data is None:
            self._ended = True
            return False
        self._buffer, self._offset, self._seq = bytes(data), 0, self._seq + 1
        return True


def open_blob(engine: sa.Engine, blob_id: int) -> BinaryIO:
    """The blob's bytes as a binary file, read from wherever they were written."""
    with engine.connect() as conn:
        path = conn.scalar(sa.select(Blob.path).where(Blob.id == blob_id))
    if path is None:
        raise BlobMissing(f"blob {blob_id} does not exist")
    if path:
        try:
            return Path(path).open("rb")
        except FileNotFoundError:
            raise BlobMissing(f"blob {blob_id}'s file {path} is not there") from None
    return io.BufferedReader(_ChunkReader(engine, blob_id), CHUNK_BYTES)


def delete_blob(conn: sa.Connection | Session, blob_id: int | None) -> None:
    """Delete a blob's row and its bytes (its file too, when it has one); no commit."""
    if blob_id is None:
        return
    path = conn.scalar(sa.select(Blob.path).where(Blob.id == blob_id))
    conn.execute(sa.delete(BlobChunk).where(BlobChunk.blob_id == blob_id))
    conn.execute(sa.delete(Blob).where(Blob.id == blob_id))
    if path:
        Path(path).unlink(missing_ok=True)


def put_file(
    store: BlobStore, session: Session, path: Path, *, account_id: int, now: datetime
) -> Blob:
    """Store a local file (an upload saved for its checks, a file named on the command line)."""
    with Path(path).open("rb") as source:
        return store.put(session, source, account_id=account_id, now=now)


def remove_stray_files(
    session: Session, directory: Path, now: datetime, older_than: timedelta = STRAY_AFTER
) -> dict[str, int]:
    """Delete the files of `directory` that no blob row names, once older than `older_than`.

    A file is written before its blob row commits, so a transaction that rolls back (a
    refused upload, a failed filing) or a process killed mid-write leaves a file, or a
    `.part`, that nothing will ever read. Files this store did not name (FILE_NAME) are never
    touched. The directory belongs to one database: another database's files sharing it
    would look stray to this one.
    """
    if not directory.is_dir():
        return {"checked": 0, "deleted": 0}
    cutoff = (now - older_than).timestamp()
    old: dict[str, int] = {}  # file name -> blob id, for files old enough to judge
    parts: list[str] = []
    with os.scandir(directory) as entries:
        for entry in entries:
            found = FILE_NAME.fullmatch(entry.name)
            if not found or not entry.is_file() or entry.stat().st_mtime > cutoff:
                continue
            if found["part"]:
                parts.append(entry.name)  # never renamed into place: its writer died
            else:
                old[entry.name] = int(found["blob_id"])
    named: set[str] = set()
    ids = sorted(set(old.values()))
    for start in range(0, len(ids), 1000):
        rows = session.scalars(sa.select(Blob.path).where(Blob.id.in_(ids[start : start + 1000])))
        named.update(Path(path).name for path in rows if path)
    stray = [name for name in old if name not in named] + parts
    for name in stray:
        (directory / name).unlink(missing_ok=True)
    return {"checked": len(old) + len(parts), "deleted": len(stray)}
