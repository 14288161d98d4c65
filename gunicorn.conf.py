"""gunicorn settings for `make serve` and the systemd unit (deploy/consent-desk-web.service).

Every value can be changed through the environment, so the unit files and `make serve` share
this one file: PORT (default 8000), BIND (default 127.0.0.1:$PORT; the proxy in front talks to
it), WEB_CONCURRENCY (worker processes, default 2), GUNICORN_TIMEOUT and
GUNICORN_GRACEFUL_TIMEOUT (seconds), GUNICORN_MAX_REQUESTS (requests before a worker is
replaced, default 200,000).
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
# A worker is replaced after this many requests (a guard against a slow leak), at staggered
# times. Starting one costs about 1.7 s of a core and its first views are cold (templates,
# statements, kept queue pages), so at a busy desk's 150 requests a second per worker the
# 5,000 of before replaced each worker every half minute and stalled every page for 1-2 s.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "200000"))
max_requests_jitter = max_requests // 10
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
