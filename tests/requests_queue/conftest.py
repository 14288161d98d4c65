"""Fixtures of the domain tests: running an import the way the background run does."""

import itertools
import shutil

import pytest

from requests_queue.imports import inspect_file, run_import, start_import
from requests_queue.models import ImportBatch
from requests_queue.statuses import Actor, ActorKind
from tests.conftest import NOW
from tests.stored_files import stored

_names = itertools.count()


@pytest.fixture
def do_import(db, session, customer, tmp_path):
    """Import a fixture file or CSV text as `customer`; return the batch once the run ends."""

    def run(source, permission=True, tag="", mapping=None, user=None, **run_options):
        user = user or customer
        if isinstance(source, str):
            text, source = source, tmp_path / f"text-{next(_names)}.csv"
            source.write_text(text, encoding="utf-8")
        upload = tmp_path / f"upload-{next(_names)}.csv"
        shutil.copyfile(source, upload)
        fmt = inspect_file(upload)
        batch = start_import(
            session, user.account_id, Actor(ActorKind.customer, user.id), fmt,
            stored(session, upload, user.account_id), source.name, mapping or fmt.mapping,
            permission, tag, NOW,
        )  # fmt: skip
        session.commit()
        run_import(db.engine, batch.id, clock=lambda: NOW, **run_options)
        session.expire_all()
        return session.get(ImportBatch, batch.id)

    return run
