"""Manager page "System": is the installation ready, what the scheduler and its jobs do."""

from flask import render_template

from requests_queue.jobs.beats import ALIVE_WITHIN
from requests_queue.jobs.health import job_statuses, recent_failures
from requests_queue.jobs.readiness import scheduler_processes
from requests_queue.now import now_utc
from requests_queue.outbox import state_counts, uncertain_count

from ..extensions import db
from ..health import readiness_checks
from .views import bp

CHECK_TITLES = {
    "database": "Database",
    "migrations": "Database schema",
    "scheduler": "Scheduler",
    "outbox": "Unsent email",
}


@bp.route("/system")
def system():
    """The readiness facts of /readyz in words, the scheduler processes and the job panel."""
    checks = readiness_checks()
    now = now_utc()
    return render_template(
        "manager/system.html",
        checks=checks,
        check_titles=CHECK_TITLES,
        ready=all(c.ok for c in checks),
        processes=scheduler_processes(db.session),
        alive_within=ALIVE_WITHIN,
        now=now,
        outbox=state_counts(db.session),
        uncertain=uncertain_count(db.session),
        jobs=job_statuses(db.session, now),
        job_failures=recent_failures(db.session, now),
    )
