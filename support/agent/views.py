"""Agent desk: the queue of open requests across accounts, filtered and counted."""

from flask import Blueprint, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from requests_queue.models import RequestKind, RequestState, Role
from requests_queue.models.requests import OPEN_STATES
from requests_queue.now import now_utc
from requests_queue.requests.agent_queue import QueueFilter, QueueOrder, queue_page
from requests_queue.requests.bulk import MAX_SELECTED
from requests_queue.sla.countdown import queue_countdowns

from ..auth.session import require_roles
from ..extensions import db
from ..ids import page_number, query_id, query_text
from ..kept_facts import team_calendar
from .assigning import bulk_form, support_users
from .queue_cache import queue_body

bp = Blueprint("agent", __name__)
require_roles(bp, [Role.agent, Role.manager])


def _enum_arg(name: str, enum_cls, allowed=None):
    raw = request.args.get(name, "")
    try:
        value = enum_cls(raw) if raw else None
    except ValueError:
        return None  # an unknown value shows the unfiltered facet rather than an error page
    return value if allowed is None or value in allowed else None


def queue_filter_from_args() -> QueueFilter:
    """The queue filter named by the query string."""
    # An account or assignee that cannot be an id is ignored, like an unknown kind or state.
    assignee = request.args.get("assignee", "")
    assignee_id = current_user.id if assignee == "me" else query_id("assignee")
    return QueueFilter(
        kind=_enum_arg("kind", RequestKind),
        state=_enum_arg("state", RequestState, OPEN_STATES),
        account_id=query_id("account"),
        assignee_id=assignee_id,
        unassigned=assignee == "none",
        order=_enum_arg("order", QueueOrder) or QueueOrder.deadline,
        search=query_text("q", 200),
    )


@bp.route("/")
def home():
    """The queue: open requests across accounts, next deadline first, with a count per filter
    (the body kept while nothing it shows changes: queue_cache)."""
    flt = queue_filter_from_args()
    body = queue_body(lambda csrf_token: _queue_body(flt, bulk_form(), csrf_token))
    return render_template("agent/queue.html", body=body)


def queue_view(bulk, status: int = 200):
    """The queue page as the query string filters it, with the bulk form `bulk` as posted
    (its errors and ticks belong to this view alone, so nothing is kept)."""
    body = Markup(_queue_body(queue_filter_from_args(), bulk, generate_csrf))
    return render_template("agent/queue.html", body=body), status


def _queue_body(flt: QueueFilter, bulk, csrf_token) -> str:
    """The queue page's body: counts, filters, the bulk form and the page of rows."""
    return render_template(
        "agent/_queue_body.html",
        **queue_rows(flt),
        orders=list(QueueOrder),
        flt=flt,
        args=request.args,
        staff=support_users(),
        open_states=OPEN_STATES,
        kinds=list(RequestKind),
        bulk=bulk,
        max_selected=MAX_SELECTED,
        csrf_token=csrf_token,
    )


def queue_rows(flt: QueueFilter) -> dict:
    """The asked-for page of the queue as `flt` filters it, each row's countdown and the
    business day's hours: what the queue and "my requests" tables show."""
    result = queue_page(db.session, flt, page_number())
    calendar = team_calendar()
    return {
        "result": result,
        "countdowns": queue_countdowns(db.session, calendar, result.rows, now_utc()),
        "day_hours": calendar.hours_per_day,
    }


# The other modules of the desk register their routes on bp.
from . import (  # noqa: E402
    action_pages,  # noqa: F401  (an action's URL answers GET with the request's page)
    bulk_views,  # noqa: F401  (bulk claim, assign and note from the queue)
    mine_views,  # noqa: F401  (registers /desk/mine, the agent's home)
    replies_views,  # noqa: F401  (saved replies: /desk/replies)
    review_views,  # noqa: F401  (registers the review routes on bp)
    second_review_views,  # noqa: F401  (confirm or return a big approval)
    shift_views,  # noqa: F401  (the availability toggle and /desk/shift)
)
