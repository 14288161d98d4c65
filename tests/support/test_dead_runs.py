"""Background runs whose process died (kill -9) are noticed within seconds, not minutes."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from requests_queue.campaigns import create_campaign, provided_content, run_campaign_queueing
from requests_queue.campaigns import queueing as campaign_queueing
from requests_queue.campaigns.links import RecipientLinks
from requests_queue.imports import STALE_AFTER, inspect_file, resume_stale_imports, start_import
from requests_queue.imports.runner import CHUNK_ROWS
from requests_queue.models import (
    Campaign,
    CampaignState,
    Contact,
    EmailField,
    ImportBatch,
    ImportState,
)
from requests_queue.now import now_utc
from requests_queue.selection import ContactFilter
from requests_queue.statuses import Actor, ActorKind
from support import ROOT, background
from support.cli_imports import import_contacts
from tests.child_processes import start_scheduler, stop_with_sigterm, wait_until
from tests.stored_files import stored

# Tests that start processes run on one pytest-xdist worker, one at a time (make test --dist
# loadgroup): several at once on two cores would stretch their startups past the bounds below.
pytestmark = pytest.mark.xdist_group("processes")

# The import run in a process of its own, whose every chunk takes a minute after committing
# (a slow database, say): only its heartbeat thread can show that it is alive.
CHILD = """
import sys, time
from sqlalchemy import create_engine
from requests_queue.imports import pipeline, runner
finish = pipeline._finish_chunk
def slow(*args):
    finish(*args)
    print("chunk", flush=True)
    time.sleep(60)
pipeline._finish_chunk = slow
runner.run_import(create_engine(sys.argv[1]), int(sys.argv[2]), chunk_rows=2)
"""


def queued_import(session, customer, tmp_path, rows: int) -> ImportBatch:
    upload = tmp_path / "upload.csv"
    upload.write_text("Email\n" + "".join(f"p{i}@example.com\n" for i in range(rows)))
    fmt = inspect_file(upload)
    batch = start_import(session, customer.account_id, Actor(ActorKind.customer, customer.id),
                         fmt, stored(session, upload, customer.account_id), "upload.csv",
                         fmt.mapping, True, "",
                         now_utc())  # fmt: skip
    session.commit()
    return batch


def beat_of(session, batch_id):
    session.expire_all()
    row = session.execute(
        sa.select(ImportBatch.heartbeat_at, ImportBatch.rows_read).where(ImportBatch.id == batch_id)
    ).one()
    session.rollback()
    return row


def test_an_import_killed_mid_run_is_seen_stalled_and_resumed(
    app, db, session, client, customer, tmp_path
):
    batch = queued_import(session, customer, tmp_path, rows=7)
    url = db.engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(batch.id)], cwd=ROOT,
                             stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert child.stdout.readline() == b"chunk\n"  # the first chunk is committed …
        first_beat, rows = beat_of(session, batch.id)
        assert rows == 2
        # … and while the run sits in its slow chunk, its heartbeat goes on.
        wait_until(lambda: beat_of(session, batch.id)[0] > first_beat, 12, "a heartbeat")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        child.stdout.close()

    # Right after the kill its last beat is seconds old: --resume leaves it and says why.
    out = app.test_cli_runner().invoke(import_contacts, ["--resume"]).output
    assert "Resumed 0 import(s)." in out
    assert f"Import #{batch.id} (upload.csv" in out and "so its run is alive" in out
    assert f"It is resumed once it has been silent for {int(STALE_AFTER.total_seconds())} s" in out

    # Six beats missed (the clock moved on): the customer sees it stalled, and it resumes.
    last_beat, _ = beat_of(session, batch.id)
    session.execute(
        sa.update(ImportBatch)
        .where(ImportBatch.id == batch.id)
        .values(heartbeat_at=last_beat - STALE_AFTER)
    )
    session.commit()
    client.login(customer.email)
    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "Stalled, resuming…" in page
    background.wait("import")
    session.expire_all()
    done = session.get(ImportBatch, batch.id)
    assert (done.state, done.rows_read, done.created_count) == (ImportState.finished, 7, 7)
    out = app.test_cli_runner().invoke(import_contacts, ["--resume"]).output
    assert "No import is queued or running, so there was nothing to resume." in out


def test_a_campaign_whose_run_died_is_seen_stalled_after_half_a_minute(
    app, session, client, customer, make_contact
):
    for i in range(5):
        make_contact(customer, first_name=f"P{i}", consent=True, email=f"p{i}@acme.example")
    actor = Actor(ActorKind.customer, customer.id)
    flt = ContactFilter(customer.account_id)
    started = now_utc()
    campaign = create_campaign(session, flt, (EmailField.email,), provided_content(), actor,
                               started, 5)  # fmt: skip
    session.commit()
    links = RecipientLinks(app.config["SECRET_KEY"], app.config["PUBLIC_BASE_URL"])
    # The run stops after one chunk, as a killed one does, its last beat 31 s ago.
    beat = started - timedelta(seconds=31)
    run_campaign_queueing(session.get_bind(), campaign.id, links, lambda: beat, chunk=2,
                          stop_after_chunks=1)  # fmt: skip
    session.expire_all()  # written by the run's own session, as by another process
    assert timedelta(seconds=30) >= campaign_queueing.STALE_AFTER
    client.login(customer.email)
    progress = client.get(f"/campaigns/{campaign.id}/progress.json").json
    assert progress["note"] == "Stalled, resuming…"
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Stalled, resuming…" in page
    background.wait("campaign")
    session.expire_all()
    done = session.get(Campaign, campaign.id)
    assert (done.state, done.recipient_count) == (CampaignState.queued, 5)


def test_sigterm_stops_the_scheduler_s_import_after_its_chunk_and_the_next_run_goes_on(
    app, db, session, customer, tmp_path
):
    rows = 3 * CHUNK_ROWS
    batch = queued_import(session, customer, tmp_path, rows=rows)
    # Queued long enough ago that the scheduler's resume job takes it at once.
    session.execute(
        sa.update(ImportBatch)
        .where(ImportBatch.id == batch.id)
        .values(created_at=now_utc() - 2 * STALE_AFTER)
    )
    session.commit()
    url = db.engine.url.render_as_string(hide_password=False)
    proc = start_scheduler(url, tmp_path / "scheduler.log")
    try:
        wait_until(lambda: beat_of(session, batch.id)[1] > 0, 90, "the first chunk")
    finally:
        took = stop_with_sigterm(proc, 60)
    # Bounded by the chunk being written, not by the rest of the file.
    assert took < 15, f"SIGTERM took {took:.1f} s"
    session.expire_all()
    stopped = session.get(ImportBatch, batch.id)
    assert stopped.state is ImportState.running and 0 < stopped.rows_read < rows
    # Handed back: the next run takes it at once, and the stop is not one of its attempts.
    assert stopped.attempts == 0
    session.rollback()
    assert resume_stale_imports(session, now_utc()) == [(batch.id, ImportState.finished)]
    session.expire_all()
    done = session.get(ImportBatch, batch.id)
    assert (done.state, done.rows_read, done.created_count) == (ImportState.finished, rows, rows)
    count = sa.select(sa.func.count()).select_from(Contact)
    assert session.scalar(count.where(Contact.account_id == customer.account_id)) == rows
