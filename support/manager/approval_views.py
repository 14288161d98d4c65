"""Four-eyes approval for managers: the threshold setting and what waits for a second review."""

from flask import flash, redirect, render_template, url_for

from requests_queue.now import now_utc
from requests_queue.requests.second_review import (
    second_review_threshold,
    set_second_review_threshold,
    waiting_for_second_review,
)

from ..auth.session import current_actor
from ..edge import operation
from ..extensions import db
from .escalation_forms import ThresholdForm
from .views import bp


@bp.route("/approvals", methods=["GET", "POST"])
def approvals():
    """Set the second-review threshold; list the approvals waiting for a second agent."""
    form = ThresholdForm()
    status = 200
    if form.validate_on_submit():
        with operation(form) as op:
            set_second_review_threshold(db.session, form.threshold.data, current_actor(), now_utc())
        if op.done:
            flash(
                f"Saved: approvals of more than {form.threshold.data:,} addresses need a "
                "second agent from now on.",
                "success",
            )
            return redirect(url_for(".approvals"))
        status = 400
    elif form.is_submitted():
        status = 400
    else:
        form.threshold.data = second_review_threshold(db.session)
    total, waiting = waiting_for_second_review(db.session)
    return render_template(
        "manager/approvals.html", form=form, total=total, waiting=waiting
    ), status
