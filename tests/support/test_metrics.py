"""`/metrics`: what Prometheus reads, and who may read it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from requests_queue.models import JobOutcome, JobRun
from requests_queue.models.sla import SlaEvent, SlaThreshold
from support import metrics
from tests.conftest import play_timeline

AUTH = {"Authorization": "Bearer s3cret-metrics"}
PHX = ZoneInfo("America/Phoenix")  # the default calendar's zone


def at(d: int, hh: int = 9) -> datetime:
    """An instant in October 2026, team time (no holiday from the 19th to the 30th)."""
    return datetime(2026, 10, d, hh, tzinfo=PHX)


NOW = at(29, 12)  # Thursday


def test_no_metrics_endpoint_without_a_token(client):
    assert client.get("/metrics").status_code == 404


def test_a_scrape_needs_the_bearer_token(app, client):
    app.config["METRICS_TOKEN"] = "s3cret-metrics"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers=AUTH).status_code == 200


def test_the_figures_an_operator_watches(app, client, session, customer, monkeypatch):
    app.config["METRICS_TOKEN"] = "s3cret-metrics"
    monkeypatch.setattr(metrics, "now_utc", lambda: NOW)
    # No sweep has run: the SLA figures are the clocks as they stand, as in the queue.
    at_risk = play_timeline(session, customer, [(at(26), "file", customer)])  # 3 days 3 h
    play_timeline(session, customer, [(at(21, 10), "file", customer)])  # breached Wed 28th
    now = NOW
    session.add_all(
        [
            JobRun(job_name="deliver_outbox", started_at=now - timedelta(minutes=1),
                   finished_at=now, outcome=JobOutcome.failed, error="SMTP down"),
            JobRun(job_name="sla_sweep", started_at=now, finished_at=now,
                   outcome=JobOutcome.ok),
            # A notice in the ledger, whatever the clock says: the breaches recorded count it.
            SlaEvent(request_id=at_risk.id, threshold=SlaThreshold.breached, recorded_at=now),
        ]
    )  # fmt: skip
    session.commit()
    client.get("/healthz")
    text = client.get("/metrics", headers=AUTH).get_data(as_text=True)
    expected = [
        'consent_desk_request_duration_seconds_count{method="GET",route="/healthz",status="200"}',
        'consent_desk_job_runs{job="deliver_outbox",outcome="failed"} 1.0',
        'consent_desk_job_runs{job="sla_sweep",outcome="ok"} 1.0',
        'consent_desk_job_runs{job="daily_digest",outcome="ok"} 0.0',
        'consent_desk_open_requests{state="submitted"} 2.0',
        "consent_desk_requests_at_risk 1.0",
        "consent_desk_requests_breached_open 1.0",
        "consent_desk_sla_breaches_recorded 1.0",
        'consent_desk_background_runs_in_progress{kind="import"} 0.0',
        "consent_desk_database_up 1.0",
    ]
    for line in expected:
        assert line in text, line
    pending = next(x for x in text.splitlines() if x.startswith("consent_desk_outbox_messages{"))
    assert pending.startswith('consent_desk_outbox_messages{state="pending"}')
