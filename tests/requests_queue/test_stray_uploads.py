"""Files of a shared upload directory whose transaction never committed are removed by the
hourly job; committed files, young files and files the store did not name are kept."""

import io
import os
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from requests_queue.blobs import BlobStore, open_blob
from requests_queue.jobs.runner import JobRunner
from requests_queue.models import Blob, JobRun
from requests_queue.now import now_utc


def _age(path: Path, hours: float) -> None:
    then = (now_utc() - timedelta(hours=hours)).timestamp()
    os.utime(path, (then, then))


def test_the_job_removes_files_whose_transaction_rolled_back_and_keeps_the_rest(
    db, session, customer, tmp_path
):
    shared = tmp_path / "shared"
    store = BlobStore.from_setting(f"directory:{shared}")
    kept = store.put(session, io.BytesIO(b"kept"), account_id=customer.account_id, now=now_utc())
    session.commit()
    kept_id = kept.id
    store.put(session, io.BytesIO(b"refused"), account_id=customer.account_id, now=now_utc())
    session.rollback()  # e.g. a filing refused after its files were written
    files = sorted(shared.iterdir())
    assert len(files) == 2  # the rolled-back blob's file is still there, named by no row
    for f in files:
        _age(f, 2)
    young = shared / "999999-0123456789abcdef"  # a writer that has not committed yet
    young.write_bytes(b"in flight")
    dead_part = shared / "999998-0123456789abcdef.part"  # a writer killed mid-file
    dead_part.write_bytes(b"half")
    _age(dead_part, 2)
    foreign = shared / "README.txt"  # not a name this store writes: never touched
    foreign.write_text("put here by an operator")
    _age(foreign, 2)

    settings = {"UPLOAD_STORAGE": f"directory:{shared}"}
    JobRunner(db.engine, settings=settings).run("remove_stray_uploads")

    run = session.scalars(sa.select(JobRun).order_by(JobRun.id.desc())).first()
    assert (run.error, run.counts) == ("", {"checked": 3, "deleted": 2})
    left = {p.name for p in shared.iterdir()}
    assert left == {Path(session.get(Blob, kept_id).path).name, young.name, foreign.name}
    with open_blob(db.engine, kept_id) as body:
        assert body.read() == b"kept"


def test_with_database_storage_the_job_does_nothing(db, session, tmp_path):
    JobRunner(db.engine, settings={"UPLOAD_STORAGE": "database"}).run("remove_stray_uploads")
    run = session.scalars(sa.select(JobRun).order_by(JobRun.id.desc())).first()
    assert run.job_name == "remove_stray_uploads"
    assert run.counts == {"checked": 0, "deleted": 0}
