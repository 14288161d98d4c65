"""A small file cannot take the server down: wide or long-lined uploads are refused at once,
with the reason next to the file field, and the mapping page stays small whatever the file."""

import io
import re
import time

import pytest
import sqlalchemy as sa
from werkzeug.test import EnvironBuilder

from requests_queue.models import ImportBatch, ImportState
from tests.background_runs import wait_for_imports
from tests.stored_files import kept_files


@pytest.fixture(autouse=True)
def imports_finish():
    """No test leaves a background run behind."""
    yield
    wait_for_imports()


def _upload(client, text: str):
    """Upload `text` as a file; the request body is closed here (the test client leaves a body
    over 500 KB, which it spools to a temporary file, open)."""
    data = {"file": (io.BytesIO(text.encode()), "contacts.csv"), "csrf_token": client.csrf_token()}
    builder = EnvironBuilder("/imports/new", method="POST", data=data)
    environ = builder.get_environ()
    try:
        return client.http.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


def _field_error(page: str) -> str:
    return re.search(r'class="field-error"[^>]*>([^<]*)', page).group(1)


def test_a_file_of_30000_columns_is_refused_quickly_with_a_short_page(client, session, customer):
    client.login(customer.email)
    header = "Email," + ",".join(f"c{i}" for i in range(29_999))
    text = f"{header}\na@example.com{',x' * 29_999}\n"
    assert 200_000 < len(text) < 300_000  # the size of the file that took the mapping page 17 s
    started = time.perf_counter()
    response = _upload(client, text)
    elapsed = time.perf_counter() - started
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and elapsed < 2
    assert "at most 200 can be imported" in _field_error(page)
    assert len(page) < 20_000
    assert kept_files(session) == 0  # nothing kept


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Email,Note\na@example.com," + "x" * 1_000_000 + "\n", "Line 2 has more than 65,536"),
        ("Email," + "x" * 1_000_000 + "\na@example.com,x\n", "The first row has more than"),
    ],
)
def test_a_file_with_a_1_mb_line_is_refused_saying_why(client, customer, text, words):
    client.login(customer.email)
    response = _upload(client, text)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert words in _field_error(page)
    assert len(page) < 20_000


def test_a_200_column_file_still_imports_and_its_mapping_page_stays_small(
    client, session, customer
):
    client.login(customer.email)
    # Long column names and long values: the page shows each cut short.
    header = ",".join(["Email", *(f"Custom field {i} " + "n" * 250 for i in range(1, 200))])
    row = ",".join(["ada@example.com", *("v" * 300 for _ in range(1, 200))])
    response = _upload(client, f"{header}\n{row}\n{row.replace('ada', 'bob')}\n")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert page.count("<select") == 200
    assert "n" * 100 not in page and "v" * 101 not in page
    assert len(page) < 300_000  # the selects themselves are most of it
    response = client.post(response.location, {"col_0": "email", "permission": "yes"})
    assert response.status_code == 302
    wait_for_imports()
    session.expire_all()
    batch = session.scalars(sa.select(ImportBatch)).one()
    assert (batch.state, batch.created_count) == (ImportState.finished, 2)
    assert len(batch.header) == 200  # the stored header keeps the full names


def test_the_upload_page_says_what_the_limits_are(client, customer):
    client.login(customer.email)
    page = client.get("/imports/new").get_data(as_text=True)
    assert "At most 200 columns" in page and "65,536 characters" in page
