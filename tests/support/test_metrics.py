"""`/metrics`: what Prometheus reads, and who may read it."""

from __future__ import annotations

from datetime import timedelta

from requests_queue.models import JobOutcome, JobRun
from requests_queue.models.sla import SlaEvent, SlaThreshold
from requests_queue.now import now_utc

AUTH = {"Authorization": "Bearer s3cret-metrics"}


def test_no_metrics_endpoint_without_a_token(client):
    assert client.get("/metrics").status_code == 404


def test_a_scrape_needs_the_bearer_token(app, client):
    app.config["METRICS_TOKEN"] = "s3cret-metrics"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers=AUTH).status_code == 200


def test_the_figures_an_operator_watches(app, client, session, customer, file_opt_in):
    app.config["METRICS_TOKEN"] = "s3cret-metrics"
    first, second = file_opt_in(customer, n=2), file_opt_in(customer, n=1, prefix="q")
    now = now_utc()
    session.add_all(
        [
            JobRun(job_name="deliver_outbox", started_at=now - timedelta(minutes=1),
                   finished_at=now, outcome=JobOutcome.failed, error="SMTP down"),
            JobRun(job_name="sla_sweep", started_at=now, finished_at=now,
                   outcome=JobOutcome.ok),
            SlaEvent(request_id=first.id, threshold=SlaThreshold.at_risk, recorded_at=now),
            SlaEvent(request_id=second.id, threshold=SlaThreshold.at_risk, recorded_at=now),
            SlaEvent(request_id=second.id, threshold=SlaThreshold.breached, recorded_at=now),
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
        'consent_desk_background_runs_in_progress{kind="import"} 0.0',
        "consent_desk_database_up 1.0",
    ]
    for line in expected:
        assert line in text, line
    pending = next(x for x in text.splitlines() if x.startswith("consent_desk_outbox_messages{"))
    assert pending.startswith('consent_desk_outbox_messages{state="pending"}')
