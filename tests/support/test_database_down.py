"""The database goes away under a running app: people get a 503 "we'll be back", not a crash."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from support import create_app
from tests.conftest import PASSWORD, Client


class TcpRelay:
    """A TCP relay in front of PostgreSQL; `cut()` drops every connection and stops listening,
    as a database server that went down does."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread: no new ones
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.fixture
def outage(app, backend, tmp_path, customer):
    """A second app on the same data through something that can be cut: a relay in front of
    PostgreSQL, or for SQLite a database file on a volume that disappears."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if backend == "postgresql":
        relay = TcpRelay(url.host or "127.0.0.1", url.port or 5432)
        served = url.set(host="127.0.0.1", port=relay.port)
        cut = relay.cut
    else:
        from support.extensions import db

        db.session.commit()
        with db.engine.connect() as conn:  # everything into the main file, then copy it
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        volume = tmp_path / "volume"
        volume.mkdir()
        shutil.copy(url.database, volume / "desk.sqlite")
        served = url.set(database=str(volume / "desk.sqlite"))

        def cut():
            shutil.rmtree(volume)

    down_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": served.render_as_string(hide_password=False),
            "RATELIMIT_STORAGE_URI": "memory://",
            "SERVER_NAME": "localhost",
        }
    )

    def go_down():
        """Cut the database off; called inside `down_app`'s context, as its requests run."""
        from support.extensions import db

        db.session.remove()
        cut()
        db.engine.dispose()  # the pool's connections went with the server

    yield down_app, go_down
    with down_app.app_context():
        from support.extensions import db

        db.engine.dispose()


def test_a_logged_in_customer_sees_we_ll_be_back_when_the_database_is_down(outage, customer):
    down_app, go_down = outage
    email = customer.email  # read in this app's context: the other one's database goes down
    with down_app.app_context():
        client = Client(down_app)
        client.login(email, PASSWORD)
        assert client.get("/contacts").status_code == 200
        go_down()
        response = client.get("/contacts")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert "We'll be back in a moment" in page
    assert "Internal Server Error" not in page
    assert email not in page


def test_readyz_says_the_database_is_unreachable(outage):
    down_app, go_down = outage
    with down_app.app_context():
        client = down_app.test_client()
        go_down()
        response = client.get("/readyz")
        assert client.get("/healthz").status_code == 200  # the process itself is fine
    assert response.status_code == 503
    assert response.json["reasons"] == ["database: unreachable"]


def test_other_database_errors_still_get_the_ordinary_error_page(app, client, customer):
    @app.get("/boom")
    def boom():
        from support.extensions import db

        db.session.execute(sa.text("SELECT * FROM no_such_table"))

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client.login(customer.email)
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
