"""Managers see on the System page how the background jobs are doing, failures first."""

from __future__ import annotations

from datetime import timedelta

from requests_queue.jobs.schedule import SCHEDULE
from requests_queue.models import JobOutcome, JobRun
from requests_queue.now import now_utc


def test_a_failed_job_is_shown_to_managers_with_its_error(client, session, manager):
    now = now_utc()
    session.add_all(
        [
            JobRun(job_name="deliver_outbox", started_at=now - timedelta(seconds=30),
                   finished_at=now, outcome=JobOutcome.failed,
                   error="SMTP server unreachable: <refused>", counts={"retrying": 3}),
            JobRun(job_name="sla_sweep", started_at=now - timedelta(minutes=2),
                   finished_at=now, outcome=JobOutcome.ok, counts={"at_risk": 2}),
        ]
    )  # fmt: skip
    session.commit()
    client.login(manager.email)
    page = client.get("/manager/system").get_data(as_text=True)
    assert "Background jobs" in page
    assert "need attention" in page and "Send the email waiting in the outbox" in page
    assert "SMTP server unreachable: &lt;refused&gt;" in page  # escaped, never raw
    assert "at risk 2" in page
    assert "Never run: is the scheduler running?" in page  # jobs no scheduler ran yet


def test_all_clear_when_every_job_ran_as_planned(client, session, manager):
    now = now_utc()
    session.add_all(
        JobRun(job_name=job.name, started_at=now, finished_at=now, outcome=JobOutcome.ok)
        for job in SCHEDULE
    )
    session.commit()
    client.login(manager.email)
    page = client.get("/manager/system").get_data(as_text=True)
    assert f"All {len(SCHEDULE)} background jobs ran as planned." in page


def test_agents_do_not_see_the_manager_page(client, agent):
    client.login(agent.email)
    assert client.get("/manager/system").status_code == 403


def test_the_page_title_stays_short(client, manager):
    client.login(manager.email)
    page = client.get("/manager/system").get_data(as_text=True)
    assert "<title>System · Consent Desk</title>" in page
