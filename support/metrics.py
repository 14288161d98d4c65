"""`/metrics` for Prometheus: request latency by route and status, plus the job, outbox,
request, SLA and background-run figures read from the database at each scrape.

Off (404) unless METRICS_TOKEN is set; then a scrape needs `Authorization: Bearer <token>`.
Under gunicorn each worker is a process of its own: with PROMETHEUS_MULTIPROC_DIR set (as
`make serve` and the systemd unit do), every worker writes its latency figures there and any
worker answers a scrape with the sum of all of them.
"""

from __future__ import annotations

import hmac
import os
import time

import sqlalchemy as sa
from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from requests_queue.jobs.figures import Figures, sample
from requests_queue.now import now_utc

from .extensions import db

REQUEST_SECONDS = Histogram(
    "consent_desk_request_duration_seconds",
    "Time to answer a web request, by route (the URL rule, never the values in it) and status.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10),
)


DATABASE_UP = "consent_desk_database_up"

# The gauges after the job runs: name, help, the `Figures` field read, and the label its keys
# go in (None: the field is one number).
GAUGES = (
    (
        "consent_desk_job_last_success_timestamp_seconds",
        "When each job last finished without error.",
        "job_last_success",
        "job",
    ),
    (
        "consent_desk_outbox_messages",
        "Outbox messages by state (pending is the backlog, failed the send failures).",
        "outbox",
        "state",
    ),
    (
        "consent_desk_outbox_uncertain_messages",
        "Failed messages that may have been delivered (a sender died).",
        "outbox_uncertain",
        None,
    ),
    (
        "consent_desk_outbox_oldest_unsent_seconds",
        "Age of the oldest message not sent yet.",
        "outbox_oldest_unsent_seconds",
        None,
    ),
    ("consent_desk_open_requests", "Open requests by state.", "open_requests", "state"),
    (
        "consent_desk_requests_at_risk",
        "Open requests past their due time, not yet breached (their SLA clocks now).",
        "at_risk",
        None,
    ),
    (
        "consent_desk_requests_breached_open",
        "Open requests past the breach time.",
        "breached_open",
        None,
    ),
    (
        "consent_desk_sla_breaches_recorded",
        "Breach notices the SLA sweep ever recorded (kept after closing).",
        "breaches_recorded",
        None,
    ),
    (
        "consent_desk_background_runs_in_progress",
        "Imports running and campaigns being queued.",
        "background_runs",
        "kind",
    ),
)


def _gauge(name: str, doc: str, value, label: str | None = None) -> GaugeMetricFamily:
    """A gauge of one number, or with `label` of a number per key of the dict `value`."""
    if label is None:
        return GaugeMetricFamily(name, doc, value=value)
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, n in value.items():
        family.add_metric([str(key)], n)
    return family


class FiguresCollector:
    """The database's figures as gauges, sampled when Prometheus scrapes."""

    def collect(self):
        """One sample; `consent_desk_database_up` 0 (and nothing else) when it is out of reach."""
        try:
            f: Figures = sample(db.session, now_utc())
            db.session.rollback()  # a read-only sample: end its transaction, nothing to commit
        except sa.exc.DBAPIError:
            db.session.rollback()  # the connection failed: give it back clean for the next scrape
            yield _gauge(DATABASE_UP, "1 when the database answered.", 0)
            return
        yield _gauge(DATABASE_UP, "1 when the database answered.", 1)
        runs = GaugeMetricFamily(
            "consent_desk_job_runs", "Job runs of the last 24 hours.", labels=["job", "outcome"]
        )
        for (job, outcome), n in sorted(f.job_runs.items()):
            runs.add_metric([job, outcome], n)
        yield runs
        for name, doc, field, label in GAUGES:
            yield _gauge(name, doc, getattr(f, field), label)


def exposition() -> bytes:
    """The text Prometheus reads: the latency histograms, then the database's figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
        latency = generate_latest(workers)
    else:
        latency = generate_latest(REGISTRY)
    figures = CollectorRegistry(auto_describe=False)
    figures.register(FiguresCollector())
    return latency + generate_latest(figures)


def register_metrics(app: Flask) -> None:
    """Time every request; serve `/metrics` when METRICS_TOKEN is set."""

    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.get("metrics_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
            REQUEST_SECONDS.labels(route, request.method, str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response

    @app.get("/metrics")
    def metrics():
        """Prometheus exposition, for a bearer of METRICS_TOKEN only (404 when unset)."""
        token = current_app.config["METRICS_TOKEN"]
        if not token:
            abort(404)
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("A bearer token is needed.\n", 401,
                            {"WWW-Authenticate": 'Bearer realm="metrics"'})  # fmt: skip
        return Response(exposition(), mimetype=CONTENT_TYPE_LATEST)
