"""Agent home: the requests this person claimed, next deadline first."""

from flask import render_template
from flask_login import current_user

from requests_queue.requests.agent_queue import QueueFilter, QueueOrder

from .views import bp, queue_rows


@bp.route("/mine")
def mine():
    """My claimed open requests by due time, and the way to the whole queue."""
    shown = queue_rows(QueueFilter(assignee_id=current_user.id, order=QueueOrder.deadline))
    return render_template(
        "agent/mine.html", **shown, unassigned=shown["result"].counts.assignee.get(None, 0)
    )
