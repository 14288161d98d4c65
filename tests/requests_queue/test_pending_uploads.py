"""Specs for import uploads waiting for their mapping: only their own user finds them, and one
left longer than a day is deleted with its file."""

from datetime import timedelta

import sqlalchemy as sa

from requests_queue.blobs import BlobStore
from requests_queue.imports.uploads import (
    PENDING_FOR,
    forget_stale_uploads,
    keep_upload,
    pending_upload,
)
from requests_queue.models import Blob, BlobChunk, PendingUpload
from tests.conftest import NOW


def _keep(session, tmp_path, user, at):
    path = tmp_path / f"u{at.timestamp()}.csv"
    path.write_text("Email\na@example.com\n")
    token = keep_upload(session, BlobStore(), path, account_id=user.account_id, user_id=user.id,
                        meta={"header": ["Email"]}, now=at)  # fmt: skip
    session.commit()
    return token


def _count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_only_the_uploader_finds_a_pending_upload(session, customer, other_customer, tmp_path):
    token = _keep(session, tmp_path, customer, NOW)
    mine = pending_upload(session, token, customer.account_id, customer.id, NOW)
    assert mine is not None and mine.meta == {"header": ["Email"]}
    assert pending_upload(session, token, other_customer.account_id, other_customer.id, NOW) is None
    assert (
        pending_upload(session, token, customer.account_id, customer.id, NOW + PENDING_FOR * 2)
        is None
    )


def test_an_upload_left_a_day_is_deleted_with_its_file(session, customer, tmp_path):
    _keep(session, tmp_path, customer, NOW - PENDING_FOR - timedelta(minutes=1))
    fresh = _keep(session, tmp_path, customer, NOW)
    assert forget_stale_uploads(session, NOW) == 1
    session.commit()
    assert session.scalars(sa.select(PendingUpload.token)).all() == [fresh]
    assert _count(session, Blob) == 1 and _count(session, BlobChunk) == 1
