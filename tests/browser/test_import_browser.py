"""A customer imports a file: upload, map, answer, watch the progress bar, download the skips."""

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import expect

from .conftest import log_in

ROWS = 30_000


def _export(path) -> None:
    """A file like another system's export: semicolons, a BOM, a few rows that cannot go in."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        f.write("Vorname;Nachname;E-Mail;Notiz\r\n")
        for i in range(ROWS):
            f.write(f"Pat{i};Müller;pat{i}@browser.example;ok\r\n")
        f.write('Bad;Row;not-an-address;=HYPERLINK("http://evil")\r\n')
        f.write("Nobody;Here;;@nothing\r\n")


def test_customer_imports_a_file_and_downloads_the_skipped_rows(page, make_live_server, tmp_path):
    live_server = make_live_server(IMPORT_CHUNK_ROWS=1000)
    export = tmp_path / "export.csv"
    _export(export)
    log_in(page, live_server, "customer@demo.test")

    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_role("button", name="Import contacts").click()
    page.get_by_label("Contacts file").set_input_files(str(export))
    page.get_by_label("Tag the imported contacts").fill("Browser fair")
    page.get_by_role("button", name="Upload and choose columns").click()

    # The columns are pre-selected from the German header names.
    expect(page.get_by_role("heading", name=re.compile("Import “export.csv”"))).to_be_visible()
    expect(page.get_by_label(re.compile("Column 3"))).to_have_value("email")
    expect(page.get_by_label(re.compile("Column 1"))).to_have_value("first_name")
    page.screenshot(path="/tmp/shots/import-map.png", full_page=True)

    # Without an answer to the permission question nothing starts.
    page.get_by_role("button", name="Start the import").click()
    expect(page.get_by_text("Answer the permission question to go on.")).to_be_visible()
    page.get_by_label("Yes, I confirm it: new addresses become Single opt-in").check()
    page.get_by_role("button", name="Start the import").click()

    # The bar moves without the page reloading, then the result replaces it in place.
    expect(page.locator("#import-bar")).to_be_visible()
    page.evaluate("window.__samePage = true")
    expect(page.locator("[data-field=rows_read]")).not_to_have_text("0", timeout=30_000)
    page.screenshot(path="/tmp/shots/import-progress.png", full_page=True)
    expect(page.get_by_role("heading", name="Result: Finished")).to_be_visible(timeout=120_000)
    expect(page.get_by_role("heading", name="Result: Finished")).to_be_focused()
    assert page.evaluate("window.__samePage === true")
    expect(page.locator("[data-field=created]")).to_have_text(f"{ROWS:,}")
    expect(page.locator("[data-field=skipped]")).to_have_text("2")
    page.screenshot(path="/tmp/shots/import-result.png", full_page=True)

    with page.expect_download() as info:
        page.get_by_role("button", name="Download the skipped rows (CSV)").click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Line", "Reason", "Detail", "Vorname", "Nachname", "E-Mail", "Notiz"]
    assert [(r[0], r[1]) for r in rows[1:]] == [
        (str(ROWS + 2), "Invalid address"),
        (str(ROWS + 3), "No address at all"),
    ]
    assert rows[1][6] == '\'=HYPERLINK("http://evil")' and rows[2][6] == "'@nothing"
