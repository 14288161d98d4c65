"""gunicorn settings for `make serve` and the systemd unit (deploy/consent-desk-web.service).

Every value can be changed through the environment, so the unit files and `make serve` share
this one file: PORT (default 8000), BIND (default 127.0.0.1:$PORT; the proxy in front talks to
it), WEB_CONCURRENCY (worker processes, default 2), GUNICORN_TIMEOUT and
GUNICORN_GRACEFUL_TIMEOUT (seconds).
"""

import os

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Synchronous workers: the app never waits on anything slow inside a request (imports and
# campaigns run in background threads, mail goes through the outbox).
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM a worker finishes the request in hand, for at most this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# A worker is replaced after this many requests (plus jitter), so a slow leak never grows.
max_requests = 5000
max_requests_jitter = 500
# The app logs each request itself (one JSON line with its request id); gunicorn's own
# access log would say it twice.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The app's X-Forwarded-* handling is ProxyFix's (TRUSTED_PROXIES), not gunicorn's.
forwarded_allow_ips = "127.0.0.1"
proc_name = "consent-desk-web"


def child_exit(server, worker):
    """A worker that ends leaves its Prometheus figures behind as a dead process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
