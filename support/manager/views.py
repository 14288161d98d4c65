"""Manager home: the way to the SLA dashboard, the calendar and the outbox; job health."""

from flask import Blueprint, render_template

from requests_queue.jobs.health import job_statuses, recent_failures
from requests_queue.models import Role
from requests_queue.now import now_utc

from ..auth.session import require_roles
from ..extensions import db

bp = Blueprint("manager", __name__)
require_roles(bp, [Role.manager])


@bp.route("/")
def home():
    """The manager's start page."""
    now = now_utc()
    return render_template(
        "manager/home.html",
        jobs=job_statuses(db.session, now),
        job_failures=recent_failures(db.session, now),
    )


from . import calendar_views  # noqa: E402, F401, I001  (registers /manager/calendar)
from . import outbox_views  # noqa: E402, F401  (registers /manager/outbox)
from . import dashboard_views  # noqa: E402, F401  (registers /manager/dashboard)
from . import users_views  # noqa: E402, F401  (registers /manager/users)
from . import system_views  # noqa: E402, F401  (registers /manager/system)
