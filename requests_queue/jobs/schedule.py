"""Every periodic job in one table: what runs, how often, and for how long at most.

`func` is a "module:function" reference imported when the job runs, so a job's code is loaded
lazily and the table stays readable. Each function takes a `JobContext` and returns counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta


@dataclass(frozen=True)
class PeriodicJob:
    """One row of the schedule: run `func` every `every`, or daily at `daily_at` team time."""

    name: str
    func: str
    description: str
    timeout: timedelta
    every: timedelta | None = None
    daily_at: time | None = None
    # None: a run missed while no scheduler was up still happens (once) when one starts.
    misfire_grace: timedelta | None = None
    title: str = ""  # a short name for people ("Send emails"); the name is for machines

    def __post_init__(self) -> None:
        if (self.every is None) == (self.daily_at is None):
            raise ValueError(f"{self.name}: give exactly one of every= and daily_at=")

    @property
    def cadence(self) -> str:
        """How often, in words."""
        if self.daily_at is not None:
            return f"daily at {self.daily_at:%H:%M} team time"
        seconds = int(self.every.total_seconds())
        if seconds % 3600 == 0:
            return f"every {seconds // 3600} h"
        if seconds % 60 == 0:
            return f"every {seconds // 60} min"
        return f"every {seconds} s"

    @property
    def expected_gap(self) -> timedelta:
        """The longest normal gap between two runs."""
        return self.every if self.every is not None else timedelta(days=1)


SCHEDULE: tuple[PeriodicJob, ...] = (
    PeriodicJob(
        name="deliver_outbox",
        title="Send emails",
        func="requests_queue.jobs.outbox:deliver_outbox",
        description="Send the email waiting in the outbox",
        every=timedelta(minutes=1),
        timeout=timedelta(seconds=55),
    ),
    PeriodicJob(
        name="deliver_webhooks",
        title="Send webhooks",
        func="requests_queue.jobs.webhooks:deliver_webhooks_job",
        description="POST signed events to the platform's webhook endpoints",
        every=timedelta(minutes=1),
        timeout=timedelta(seconds=55),
    ),
    PeriodicJob(
        name="resume_stale_imports",
        title="Resume stopped imports",
        func="requests_queue.jobs.imports:resume_imports",
        description="Restart contact imports whose worker stopped",
        every=timedelta(minutes=2),
        timeout=timedelta(minutes=10),
    ),
    PeriodicJob(
        name="resume_campaign_queueing",
        title="Resume stopped confirmation campaigns",
        func="requests_queue.jobs.campaigns:resume_campaigns",
        description="Finish preparing confirmation campaigns whose worker stopped",
        every=timedelta(minutes=2),
        timeout=timedelta(minutes=10),
    ),
    PeriodicJob(
        name="resume_mass_actions",
        title="Resume stopped mass opt-outs",
        func="requests_queue.jobs.mass_actions:resume_mass_actions",
        description="Finish applying mass opt-outs whose worker stopped",
        every=timedelta(minutes=2),
        timeout=timedelta(minutes=30),
    ),
    PeriodicJob(
        name="resume_approvals",
        title="Resume stopped approvals",
        func="requests_queue.jobs.mass_actions:resume_approvals",
        description="Finish applying approved requests whose worker stopped",
        every=timedelta(minutes=2),
        timeout=timedelta(minutes=30),
    ),
    PeriodicJob(
        name="resume_freezes",
        title="Resume stopped request freezes",
        func="requests_queue.jobs.mass_actions:resume_freezes",
        description="Finish recording the selections of filed requests whose worker stopped",
        every=timedelta(minutes=2),
        timeout=timedelta(minutes=30),
    ),
    PeriodicJob(
        name="keep_eligibility",
        title="Keep request counts current",
        func="requests_queue.jobs.mass_actions:keep_eligibility",
        description="Move open requests' eligibility counts forward to the latest status changes",
        every=timedelta(minutes=1),
        timeout=timedelta(seconds=55),
    ),
    PeriodicJob(
        name="tally_queue",
        title="Keep the queue's counts",
        func="requests_queue.jobs.assignment:tally_queue",
        description="Fold the changes the database logged into the queue's kept counts and version",
        every=timedelta(minutes=1),
        timeout=timedelta(seconds=55),
    ),
    PeriodicJob(
        name="balance_assignments",
        title="Assign requests fairly",
        func="requests_queue.jobs.assignment:balance_assignments",
        description="Give back work of agents away or off shift before it is at risk; "
        "assign the pool round robin (when turned on)",
        every=timedelta(minutes=1),
        timeout=timedelta(seconds=55),
    ),
    PeriodicJob(
        name="sla_sweep",
        title="Check SLA deadlines",
        func="requests_queue.jobs.sla:sla_sweep",
        description="Mark requests at risk or breached, and notify",
        every=timedelta(minutes=5),
        timeout=timedelta(minutes=4),
    ),
    PeriodicJob(
        name="report_facts",
        title="Update dashboard figures",
        func="requests_queue.jobs.reports:refresh_reports",
        description="Bring the SLA dashboard's per-request figures up to date",
        every=timedelta(minutes=5),
        timeout=timedelta(minutes=4),
    ),
    PeriodicJob(
        name="unanswered_requests",
        title="Remind or close unanswered requests",
        func="requests_queue.jobs.sla:unanswered_requests",
        description="Remind, then close, requests the customer left unanswered",
        every=timedelta(minutes=15),
        timeout=timedelta(minutes=10),
    ),
    PeriodicJob(
        name="daily_digest",
        title="Morning digest for managers",
        func="requests_queue.jobs.sla:daily_digest",
        description="Email the managers the morning SLA digest",
        daily_at=time(8, 0),
        timeout=timedelta(minutes=5),
        # Still worth sending if the scheduler comes back during the morning; not later.
        misfire_grace=timedelta(hours=4),
    ),
    PeriodicJob(
        name="prune_job_runs",
        title="Tidy the job history",
        func="requests_queue.jobs.housekeeping:prune_job_runs",
        description="Forget job runs older than 30 days",
        daily_at=time(3, 0),
        timeout=timedelta(minutes=5),
        misfire_grace=timedelta(hours=12),
    ),
    PeriodicJob(
        name="remove_stray_uploads",
        title="Tidy the upload directory",
        func="requests_queue.jobs.uploads:remove_stray_uploads",
        description="Delete upload files whose transaction never committed (directory storage)",
        every=timedelta(hours=1),
        timeout=timedelta(minutes=10),
    ),
)


def job_named(name: str, schedule: tuple[PeriodicJob, ...] = SCHEDULE) -> PeriodicJob:
    """The schedule row called `name` (KeyError when there is none)."""
    for job in schedule:
        if job.name == name:
            return job
    raise KeyError(name)
