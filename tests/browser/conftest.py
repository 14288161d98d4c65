"""Browser fixtures: a live server on 127.0.0.1 with the demo data, and a Chromium page.

Locally the browser tests skip with a clear reason when Chromium is absent; under CI=true
its absence is an error, so CI never passes without running them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import create_app
from support.demo import seed
from support.extensions import db
from tests.live_servers import start_server, stop_server

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    """Mark everything here as a browser test."""
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """A SQLite file with the schema and demo data (no requests), built once, copied per test."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "t"})
    with app.app_context():
        db.create_all()
        seed(db.session, with_requests=False)
        db.session.commit()
        db.engine.dispose()
    return path


@dataclass
class LiveServer:
    """A running app: `url` to browse, `app` to inspect its database from the test."""

    url: str
    app: object

    def __str__(self) -> str:
        return self.url


@pytest.fixture
def make_live_server(demo_template, tmp_path) -> Iterator:
    """Start a live server with extra config: make_live_server(SMTP_PORT=…)."""
    servers = []

    def start(**config) -> LiveServer:
        path = tmp_path / f"live{len(servers)}.sqlite"
        shutil.copy(demo_template, path)
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                "SECRET_KEY": "browser-test-secret",
                **config,
            }
        )
        server, thread = start_server(app)
        url = f"http://127.0.0.1:{server.server_port}"
        app.config["PUBLIC_BASE_URL"] = url
        servers.append((server, thread, app))
        return LiveServer(url, app)

    yield start
    for server, thread, app in servers:
        stop_server(server, thread)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def live_server(make_live_server) -> LiveServer:
    """The app with the demo data on a free port of 127.0.0.1, nobody logged in."""
    return make_live_server()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, headless."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs the chromium package")
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab at a laptop's screen size."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, live_server, email: str, password: str = "demo1234") -> None:
    """Log in through the form, as a person would."""
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
