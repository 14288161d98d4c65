"""Werkzeug's threaded server on 127.0.0.1, as the browser tests and the log tests run it.

A static file is served from an open file handle that werkzeug closes after the response. When
the browser drops the connection first (Chromium cancels a favicon or a stylesheet it no longer
needs as the page moves on), werkzeug's development server reads the socket before closing the
response: the read raises, the close is skipped, and the handle is left to the garbage
collector, which reports it as an unraisable ResourceWarning in whatever test runs then. The
suite treats warnings as errors, so that made a random browser test fail. Here a file is read
whole and closed at once: the pages and files the browser sees are the same bytes.
"""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, make_server


def _whole_file(file, _buffer_size: int = 8192) -> list[bytes]:
    with file:
        return [file.read()]


def _reading_files_whole(app):
    def served(environ, start_response):
        environ["wsgi.file_wrapper"] = _whole_file
        return app(environ, start_response)

    return served


def start_server(app) -> tuple[BaseWSGIServer, threading.Thread]:
    """The app on a free port of 127.0.0.1, in a daemon thread; stop it with stop_server."""
    server = make_server("127.0.0.1", 0, _reading_files_whole(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def stop_server(server: BaseWSGIServer, thread: threading.Thread) -> None:
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()  # the listening socket too, or it is one more unclosed resource
