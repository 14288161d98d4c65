"""Manager home is the SLA dashboard; the background jobs are on the System page."""

from flask import Blueprint, redirect, url_for

from requests_queue.models import Role

from ..auth.session import require_roles

bp = Blueprint("manager", __name__)
require_roles(bp, [Role.manager])


@bp.route("/")
def home():
    """The manager's start page is the SLA dashboard (the jobs table lives under System)."""
    return redirect(url_for(".dashboard"))


from . import calendar_views  # noqa: E402, F401, I001  (registers /manager/calendar)
from . import shift_views  # noqa: E402, F401  (registers /manager/calendar/agents)
from . import outbox_views  # noqa: E402, F401  (registers /manager/outbox)
from . import dashboard_views  # noqa: E402, F401  (registers /manager/dashboard)
from . import users_views  # noqa: E402, F401  (registers /manager/users)
from . import system_views  # noqa: E402, F401  (registers /manager/system)
from . import approval_views  # noqa: E402, F401  (registers /manager/approvals)
from . import escalation_views  # noqa: E402, F401  (one-click reassignment from SLA alerts)
