"""Evidence files customers attach when filing a request or answering support (issue 14, item 6).

Only PNG, JPEG, PDF and CSV are taken, and the type is found from the content by parsing its
structure (PNG chunks with their checksums, JPEG segments up to the image data, a PDF's header
and trailer, CSV as text that splits into rows), never from the name or the browser's word.
Files go to the upload storage (requests_queue/blobs) and are evidence: never edited or deleted.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..blobs import BlobStore, BlobTooLarge
from ..errors import NotFound, ValidationError
from ..imports.reading import detect_delimiter
from ..models import ConsentRequest, RequestEvent, RequestEventKind, User
from ..models.files import TYPE_TITLES, RequestAttachment, size_text
from ..statuses import Actor, ActorKind

FIELD = "files"
MAX_FILES = 5
MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    """One accepted type: what it is served as and the name endings it may keep."""

    content_type: str
    title: str
    suffixes: tuple[str, ...]


PNG = FileKind("image/png", TYPE_TITLES["image/png"], (".png",))
JPEG = FileKind("image/jpeg", TYPE_TITLES["image/jpeg"], (".jpg", ".jpeg"))
PDF = FileKind("application/pdf", TYPE_TITLES["application/pdf"], (".pdf",))
CSV = FileKind("text/csv", TYPE_TITLES["text/csv"], (".csv",))
KINDS = {k.content_type: k for k in (PNG, JPEG, PDF, CSV)}
ACCEPTED = "PNG, JPEG, PDF or CSV"


@dataclass(frozen=True)
class FileLimits:
    """How many files one filing or answer takes, and how large each may be."""

    max_files: int = MAX_FILES
    max_bytes: int = MAX_BYTES


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks: its safe name, its type and the bytes to store."""

    name: str
    kind: FileKind
    size: int
    source: BinaryIO


@dataclass(frozen=True)
class AttachmentInfo:
    """One evidence file as a proof-of-consent export lists it."""

    id: int
    request_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_id: int
    uploaded_by_email: str
    uploaded_at: datetime
    # The timeline entry it came with: "filed", or "answer" to a question of support.
    came_with: str


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _is_png(f: BinaryIO) -> bool:
    """Signature, IHDR first, every chunk whole with a right CRC, up to IEND."""
    if f.read(8) != _PNG_SIGNATURE:
        return False
    first = True
    while True:
        header = f.read(8)
        if len(header) < 8:
            return False
        length, kind = struct.unpack(">I4s", header)
        if first and (kind != b"IHDR" or length != 13):
            return False
        first = False
        data, crc = f.read(length), f.read(4)
        if len(data) < length or len(crc) < 4:
            return False
        if zlib.crc32(kind + data) != int.from_bytes(crc, "big"):
            return False
        if kind == b"IEND":
            return True


def _is_jpeg(f: BinaryIO) -> bool:
    """Start of image, then whole segments with a frame header, up to the scan; EOI near the end."""
    if f.read(2) != b"\xff\xd8":
        return False
    has_frame = False
    while True:
        if f.read(1) != b"\xff":
            return False
        marker = f.read(1)
        while marker == b"\xff":  # fill bytes
            marker = f.read(1)
        if not marker:
            return False
        code = marker[0]
        if 0xD0 <= code <= 0xD7 or code == 0x01:
            continue  # markers without a length
        if code == 0xD9:
            return False  # the end before any image data
        raw = f.read(2)
        if len(raw) < 2 or int.from_bytes(raw, "big") < 2:
            return False
        f.seek(int.from_bytes(raw, "big") - 2, io.SEEK_CUR)
        if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
            has_frame = True
        if code == 0xDA:  # start of scan: the compressed image follows
            break
    size = f.seek(0, io.SEEK_END)
    f.seek(max(0, size - 1024))
    return has_frame and b"\xff\xd9" in f.read()


def _is_pdf(f: BinaryIO) -> bool:
    """A PDF header at the start, and the trailer's startxref and %%EOF at the end."""
    if re.match(rb"%PDF-[12]\.\d", f.read(8)) is None:
        return False
    size = f.seek(0, io.SEEK_END)
    f.seek(max(0, size - 2048))
    tail = f.read()
    return b"startxref" in tail and b"%%EOF" in tail


def _is_csv(f: BinaryIO) -> bool:
    """Text (UTF-8, or Windows-1252 mostly ASCII; no NUL or control bytes) that splits into rows.

    Markup (HTML, SVG, XML) is text but no CSV: refused, so nothing a browser would run is kept.
    """
    data = f.read()
    if b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Windows-1252 decodes any bytes: mostly letters outside ASCII is binary, not a list.
        if sum(b >= 0x80 for b in data) > len(data) * 0.3:
            return False
        text = data.decode("cp1252", errors="replace")
    if any(c < " " and c not in "\t\r\n" for c in text) or text.lstrip()[:1] in ("<", ""):
        return False
    if text.startswith("%PDF-"):  # a broken PDF is not a list
        return False
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text[:65536]))
    try:
        return any(any(cell.strip() for cell in row) for row in rows)
    except csv.Error:
        return False


_SNIFFERS = ((PNG, _is_png), (JPEG, _is_jpeg), (PDF, _is_pdf), (CSV, _is_csv))


def sniff(source: BinaryIO) -> FileKind | None:
    """The file's type from its content (one of KINDS), or None; reads from the start."""
    for kind, parses in _SNIFFERS:
        source.seek(0)
        try:
            if parses(source):
                return kind
        except (OSError, ValueError, struct.error):
            continue
    return None


def safe_name(name: str, kind: FileKind) -> str:
    """The name as shown and downloaded: no folders or control characters, the type's ending.

    "scan.html" holding a PNG is kept as "scan.html.png", so a saved copy opens as what it is.
    """
    name = re.sub(r"[\x00-\x1f\x7f]", "", PurePosixPath(name.replace("\\", "/")).name).strip()
    name = name or "evidence"
    if PurePosixPath(name).suffix.lower() not in kind.suffixes:
        name += kind.suffixes[0]
    return name[-200:]


def check_files(files: Sequence[tuple[str, BinaryIO]], limits: FileLimits) -> list[CheckedFile]:
    """Check (name, seekable binary file) uploads; the first problem is a ValidationError."""
    if len(files) > limits.max_files:
        raise ValidationError(
            FIELD, f"attach at most {limits.max_files} files at a time; you chose {len(files)}"
        )
    checked = []
    for name, source in files:
        shown = PurePosixPath((name or "the file").replace("\\", "/")).name
        size = source.seek(0, io.SEEK_END)
        if size == 0:
            raise ValidationError(FIELD, f"“{shown}” is empty")
        if size > limits.max_bytes:
            raise ValidationError(
                FIELD,
                f"“{shown}” is {size_text(size)}; each file can be at most "
                f"{size_text(limits.max_bytes)}",
            )
        kind = sniff(source)
        if kind is None:
            raise ValidationError(
                FIELD,
                f"“{shown}” is not a {ACCEPTED} file (judged from its content, not its name). "
                "Save it as one of these and attach it again",
            )
        source.seek(0)
        checked.append(CheckedFile(safe_name(shown, kind), kind, size, source))
    return checked


def attach_files(
    session: Session,
    store: BlobStore,
    req: ConsentRequest,
    came_with: RequestEventKind,
    files: Sequence[CheckedFile],
    actor: Actor,
    limits: FileLimits,
    now: datetime,
) -> list[RequestAttachment]:
    """Keep checked files as evidence of `req`, with the latest `came_with` event (filed or
    answer) the customer just wrote; flush, no commit."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if actor.kind is not ActorKind.customer or user is None or user.account_id != req.account_id:
        raise NotFound("this request does not exist")
    event_id = session.scalar(
        sa.select(sa.func.max(RequestEvent.id)).where(
            RequestEvent.request_id == req.id,
            RequestEvent.kind == came_with,
            RequestEvent.actor_user_id == user.id,
        )
    )
    kept = []
    for file in files:
        try:
            blob = store.put(
                session, file.source, account_id=req.account_id, now=now, limit=limits.max_bytes
            )
        except BlobTooLarge:  # it grew after the check: refuse rather than keep a part
            raise ValidationError(FIELD, f"“{file.name}” is too large") from None
        attachment = RequestAttachment(
            request_id=req.id,
            event_id=event_id,
            blob_id=blob.id,
            filename=file.name,
            content_type=file.kind.content_type,
            size=blob.size,
            sha256=blob.sha256,
            uploaded_by_id=user.id,
            uploaded_at=now,
        )
        session.add(attachment)
        kept.append(attachment)
    session.flush()
    return kept


def attachment_of(session: Session, request_id: int, attachment_id: int) -> RequestAttachment:
    """One file of one request; NotFound when it belongs to another request."""
    attachment = session.get(RequestAttachment, attachment_id)
    if attachment is None or attachment.request_id != request_id:
        raise NotFound("this file does not exist")
    return attachment


def request_files(session: Session, request_id: int) -> list[RequestAttachment]:
    """A request's files in the order they were attached."""
    return list(
        session.scalars(
            sa.select(RequestAttachment)
            .where(RequestAttachment.request_id == request_id)
            .order_by(RequestAttachment.id)
        )
    )


def request_attachments(session: Session, request_id: int) -> list[AttachmentInfo]:
    """What a request's evidence files are (name, type, size, SHA-256, who and when), for
    exports such as the proof of consent; the bytes are read with blobs.open_blob."""
    a = RequestAttachment
    rows = session.execute(
        sa.select(a, User.email, RequestEvent.kind)
        .join(User, User.id == a.uploaded_by_id)
        .outerjoin(RequestEvent, RequestEvent.id == a.event_id)
        .where(a.request_id == request_id)
        .order_by(a.id)
    ).all()
    return [
        AttachmentInfo(
            id=att.id,
            request_id=att.request_id,
            name=att.filename,
            content_type=att.content_type,
            size=att.size,
            sha256=att.sha256,
            uploaded_by_id=att.uploaded_by_id,
            uploaded_by_email=email,
            uploaded_at=att.uploaded_at,
            came_with=(kind or RequestEventKind.filed).value,
        )
        for att, email, kind in rows
    ]


# Once support does one of these after the customer's filing or answer, files no longer join
# it: support has started reading it (or decided). An assignment, an internal note or a
# reminder does not count.
_REVIEWED_SINCE = frozenset(
    {
        RequestEventKind.claimed,
        RequestEventKind.question,
        RequestEventKind.approved,
        RequestEventKind.first_approval,
        RequestEventKind.returned,
        RequestEventKind.rejected,
        RequestEventKind.withdrawn,
        RequestEventKind.closed,
    }
)


def joins_latest(session: Session, req: ConsentRequest, actor: Actor) -> RequestEventKind:
    """What files sent on their own (the API, after a JSON filing or answer) come with: the
    customer's latest filing or answer, as long as support has not started on it since and
    the request is still open. Otherwise a ValidationError says to send them with an answer."""
    latest = session.execute(
        sa.select(RequestEvent.id, RequestEvent.kind)
        .where(
            RequestEvent.request_id == req.id,
            RequestEvent.kind.in_([RequestEventKind.filed, RequestEventKind.answer]),
            RequestEvent.actor_user_id == actor.user_id,
        )
        .order_by(RequestEvent.id.desc())
        .limit(1)
    ).first()
    reviewed = latest is not None and session.scalar(
        sa.select(sa.func.count()).where(
            RequestEvent.request_id == req.id,
            RequestEvent.id > latest.id,
            RequestEvent.kind.in_(_REVIEWED_SINCE),
        )
    )
    if latest is None or reviewed or not req.state.is_open:
        raise ValidationError(
            FIELD,
            f"files join what you just sent, until support starts reviewing it; request "
            f"{req.number} is past that: send them with your answer to support's next question",
        )
    return latest.kind
