"""The import through the portal and the shell: upload, mapping, permission, results, refusals."""

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from requests_queue.blobs import BlobStore
from requests_queue.imports.uploads import PENDING_FOR, keep_upload
from requests_queue.models import (
    Contact,
    EmailAddress,
    ImportBatch,
    ImportState,
    PendingUpload,
    Tag,
)
from requests_queue.now import now_utc
from requests_queue.statuses import EmailStatus
from tests.background_runs import wait_for_imports
from tests.stored_files import kept_files

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"


@pytest.fixture(autouse=True)
def imports_finish():
    """No test leaves a background run behind."""
    yield
    wait_for_imports()


def _file(name: str, as_name: str | None = None):
    return (io.BytesIO((FIXTURES / name).read_bytes()), as_name or name)


def _upload(client, name: str, tag: str = ""):
    return client.post("/imports/new", {"file": _file(name), "tag": tag})


def _start(client, name: str, permission: str | None = "yes", tag: str = "", **columns):
    """Upload a fixture, keep the pre-selected mapping (or override it), answer, start."""
    response = _upload(client, name, tag)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.location).get_data(as_text=True)
    data = {
        m.group(1): m.group(2)
        for m in re.finditer(r'<select id="(col_\d+)".*?<option selected value="([^"]+)"', page,
                             re.S)
    }  # fmt: skip
    data.update(columns)
    if permission:
        data["permission"] = permission
    return client.post(response.location, data)


def _batch(session) -> ImportBatch:
    session.expire_all()
    return session.scalars(sa.select(ImportBatch).order_by(ImportBatch.id.desc())).first()


def test_customer_uploads_maps_answers_and_sees_the_result(client, session, customer):
    client.login(customer.email)
    assert 'href="/imports"' in client.get("/contacts").get_data(as_text=True)  # the nav link
    response = _upload(client, "keap_export.csv", tag="Migrated")
    page = client.get(response.location).get_data(as_text=True)
    assert "I have received prior permission to email these contacts" in page
    assert "ada.work@example.net" in page  # the first rows are shown
    assert re.search(r'id="col_3".*?<option selected value="email2">', page, re.S)

    response = _start(client, "keap_export.csv", "yes", tag="Migrated")
    assert response.status_code == 302
    wait_for_imports()
    batch = _batch(session)
    assert response.location.endswith(f"/imports/{batch.id}")
    assert (batch.state, batch.created_count, batch.user_id) == (
        ImportState.finished,
        2,
        customer.id,
    )
    assert batch.permission_confirmed is True

    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "contacts created" in page and "Finished" in page
    assert 'http-equiv="refresh"' not in page  # nothing to wait for any more
    tag = session.scalar(sa.select(Tag).where(Tag.name == "Migrated"))
    assert f"/contacts?tag={tag.id}" in page
    address = session.scalar(
        sa.select(EmailAddress).where(EmailAddress.address == "ada@example.com")
    )
    assert address.status is EmailStatus.single_opt_in


def test_the_import_runs_after_the_request_not_inside_it(client, session, customer, app):
    client.login(customer.email)
    _start(client, "keap_export.csv", "no")
    wait_for_imports()
    batch = _batch(session)
    assert batch.started_at is not None and batch.started_at >= batch.created_at
    assert session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2


def test_progress_json_reports_the_counts(client, session, customer):
    client.login(customer.email)
    _start(client, "row_problems.csv")
    wait_for_imports()
    batch = _batch(session)
    data = client.get(f"/imports/{batch.id}/progress.json").get_json()
    assert data == {
        "state": "finished", "state_title": "Finished", "done": True, "percent": 100,
        "rows_read": 8, "created": 2, "updated": 0, "skipped": 6,
    }  # fmt: skip


def test_the_running_page_refreshes_itself_without_javascript(client, session, customer):
    client.login(customer.email)
    _start(client, "keap_export.csv")
    wait_for_imports()
    batch = _batch(session)
    batch.state = ImportState.running  # as seen while its run is under way
    session.commit()
    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh"' in page
    assert '<progress id="import-bar"' in page and "progress.js" in page


def test_permission_must_be_answered(client, session, customer):
    client.login(customer.email)
    response = _start(client, "keap_export.csv", permission=None)
    assert response.status_code == 200
    assert "Answer the permission question to go on." in response.get_data(as_text=True)
    assert _batch(session) is None


def test_a_mapping_without_an_email_column_cannot_go_on(client, session, customer):
    client.login(customer.email)
    response = _start(client, "keap_export.csv", col_2="ignore", col_3="ignore", col_4="ignore")
    assert response.status_code == 200
    assert "Choose Email, Email 2 or Email 3 for at least one column" in response.get_data(
        as_text=True
    )
    assert _batch(session) is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "The file is empty."),
        ("header_only.csv", "The file has column names but no rows to import."),
        ("no_header.csv", "The first row holds email addresses, not column names."),
        ("no_email_column.csv", "No column holds email addresses."),
        ("spreadsheet.xlsx", "This is not a text file."),
    ],
)
def test_unusable_files_are_refused_with_the_reason_and_nothing_is_written(
    client, session, customer, name, message
):
    client.login(customer.email)
    response = _upload(client, name)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and 'class="field-error"' in page
    assert _batch(session) is None
    assert kept_files(session) == 0


def test_a_refused_file_still_sweeps_the_uploads_left_a_day(client, session, customer, tmp_path):
    forgotten = tmp_path / "forgotten.csv"
    forgotten.write_text("Email\na@example.com\n")
    keep_upload(
        session,
        BlobStore(),
        forgotten,
        account_id=customer.account_id,
        user_id=customer.id,
        meta={},
        now=now_utc() - PENDING_FOR - timedelta(minutes=1),
    )
    session.commit()
    client.login(customer.email)
    response = _upload(client, "empty.csv")
    assert "The file is empty." in response.get_data(as_text=True)
    assert kept_files(session) == 0  # the forgotten upload's file is gone, and its row with it
    assert session.scalar(sa.select(sa.func.count()).select_from(PendingUpload)) == 0


def test_an_upload_over_the_size_limit_gets_a_clear_refusal(client, app, customer):
    client.login(customer.email)
    app.config["MAX_CONTENT_LENGTH"] = 2048
    big = io.BytesIO(b"Email\n" + b"someone@example.com\n" * 500)
    response = client.post("/imports/new", {"file": (big, "big.csv")})
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


def test_skipped_rows_download_as_csv_with_formulas_neutralised(client, session, customer):
    client.login(customer.email)
    _start(client, "row_problems.csv")
    wait_for_imports()
    batch = _batch(session)
    response = client.get(f"/imports/{batch.id}/skipped.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Line", "Reason", "Detail", "Email", "Email 2", "First Name", "Last Name"]
    assert [r[0] for r in rows[1:]] == ["3", "4", "5", "6", "7", "8"]
    formula_row = next(r for r in rows if r[0] == "7")
    assert formula_row[3:] == ['\'=HYPERLINK("http://evil")', "", "'=1+2", "'@SUM(A1)"]
    plus_row = next(r for r in rows if r[0] == "8")
    assert plus_row[4:6] == ["'+cmd|' /C calc'!A0", "'-2+3"]
    dangerous = [c for r in rows for c in r if c[:1] in ("=", "+", "-", "@")]
    assert dangerous == []


def test_another_accounts_import_is_not_found(client, session, customer, other_customer):
    client.login(customer.email)
    pending = _upload(client, "keap_export.csv").location
    _start(client, "keap_export.csv")
    wait_for_imports()
    batch = _batch(session)
    client.logout()
    client.login(other_customer.email)
    for url in (f"/imports/{batch.id}", f"/imports/{batch.id}/progress.json",
                f"/imports/{batch.id}/skipped.csv", pending):  # fmt: skip
        assert client.get(url).status_code == 404
    assert f"#{batch.id}" not in client.get("/imports").get_data(as_text=True)


def test_support_staff_cannot_import(client, agent):
    client.login(agent.email)
    assert client.get("/imports/new").status_code == 403


def test_flask_import_contacts_prints_the_summary(app, session, customer):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["import-contacts", str(FIXTURES / "row_problems.csv"), "--account", "Acme",
              "--permission", "no", "--tag", "Shell"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert re.search(r"contacts created\s+2", result.output)
    assert re.search(r"rows skipped\s+6", result.output)
    assert "Invalid address" in result.output and "Duplicate within the file" in result.output
    batch = _batch(session)
    assert (batch.user_id, batch.permission_confirmed, batch.tag_name) == (
        customer.id, False, "Shell",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_email_column.csv", "--account", "Acme", "--permission", "yes"], "No column holds"),
        (["keap_export.csv", "--account", "Nope", "--permission", "yes"], "no account named"),
        (["keap_export.csv", "--account", "Acme"], "--permission"),
    ],
)
def test_flask_import_contacts_refuses_with_a_message(app, session, customer, args, message):
    args = [str(FIXTURES / args[0]), *args[1:]]
    result = app.test_cli_runner().invoke(args=["import-contacts", *args])
    assert result.exit_code != 0 and message in result.output
    assert _batch(session) is None


def test_flask_import_contacts_resume_runs_stale_batches(app, session, customer):
    result = app.test_cli_runner().invoke(args=["import-contacts", "--resume"])
    assert result.exit_code == 0 and "Resumed 0 import(s)." in result.output
