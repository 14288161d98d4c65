"""Agent desk: the second review of a big approval (confirm and apply, or return with a note)."""

from requests_queue.now import now_utc
from requests_queue.requests.approval import confirm_approval
from requests_queue.requests.second_review import return_to_review

from ..auth.session import current_actor
from ..extensions import db
from .forms import ConfirmForm, ReturnForm
from .review_views import _act, _invalid, _load, applied_counts, apply_checked
from .views import bp


@bp.route("/requests/<id:request_id>/confirm", methods=["POST"])
def confirm(request_id: int):
    """A second agent confirms a first approval: applied now, eligibility checked again."""
    req = _load(request_id)
    form = ConfirmForm()
    if not form.validate():
        return _invalid(req, "confirm", form)
    return apply_checked(
        req,
        confirm_approval,
        form,
        "confirm",
        lambda: f"{req.number} confirmed and approved: {applied_counts(req)}.",
    )


@bp.route("/requests/<id:request_id>/return", methods=["POST"])
def send_back(request_id: int):
    """A second agent returns a first approval to review with a note."""
    req = _load(request_id)
    form = ReturnForm()
    if not form.validate():
        return _invalid(req, "send_back", form)
    return _act(
        req,
        lambda: return_to_review(db.session, req, form.note.data, current_actor(), now_utc()),
        lambda: f"{req.number} is back in review; the first approver sees your note.",
        "send_back",
        form,
    )
