"""The suite's live server: a dropped connection leaves no file open (tests/live_servers)."""

from __future__ import annotations

import gc
import socket
import struct
import time
import warnings

from tests.live_servers import start_server, stop_server


def test_a_browser_dropping_a_stylesheet_leaves_no_file_open(app):
    # Werkzeug's own server, given the same drops, leaves a handful of the 120 files to the
    # garbage collector (the ResourceWarning that failed a random browser test in CI).
    server, thread = start_server(app)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(120):
                with socket.create_connection(("127.0.0.1", server.server_port)) as client:
                    client.sendall(b"GET /static/vendor/pico.min.css HTTP/1.1\r\nHost: t\r\n\r\n")
                    time.sleep(0.001 * (i % 15))  # drop before, during and after the reply
                    reset = struct.pack("ii", 1, 0)  # close with a reset, as a cancelled fetch
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, reset)
            time.sleep(0.5)
            gc.collect()
    finally:
        stop_server(server, thread)
    leaked = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaked == []
