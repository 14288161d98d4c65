"""Agent home: the requests this person claimed, next deadline first."""

from flask import render_template
from flask_login import current_user

from requests_queue.calendar_store import load_calendar
from requests_queue.now import now_utc
from requests_queue.requests.agent_queue import QueueFilter, QueueOrder, queue_page
from requests_queue.sla.countdown import queue_countdowns

from ..extensions import db
from ..ids import page_number
from .views import bp


@bp.route("/mine")
def mine():
    """My claimed open requests by due time, and the way to the whole queue."""
    flt = QueueFilter(assignee_id=current_user.id, order=QueueOrder.deadline)
    result = queue_page(db.session, flt, page_number())
    calendar = load_calendar(db.session)
    return render_template(
        "agent/mine.html",
        result=result,
        countdowns=queue_countdowns(db.session, calendar, result.rows, now_utc()),
        unassigned=result.counts.assignee.get(None, 0),
    )
