"""Agent desk: the second review of a big approval (confirm and apply, or return with a note)."""

from requests_queue.now import now_utc
from requests_queue.requests.approval import confirm_approval
from requests_queue.requests.second_review import return_to_review

from ..auth.session import current_actor
from ..extensions import db
from .forms import ConfirmForm, ReturnForm
from .review_views import _act, _base_url, _invalid, _load, applied_counts
from .views import bp


@bp.route("/requests/<id:request_id>/confirm", methods=["POST"])
def confirm(request_id: int):
    """A second agent confirms a first approval: applied now, eligibility checked again."""
    req = _load(request_id)
    form = ConfirmForm()
    if not form.validate():
        return _invalid(req, "confirm", form)

    def run() -> None:
        confirm_approval(
            db.session,
            req,
            current_actor(),
            now_utc(),
            checklist=form.checklist.data or [],
            base_url=_base_url(),
        )

    def said() -> str:  # read after the commit: the counts approval stored
        return f"{req.number} confirmed and approved: {applied_counts(req)}."

    return _act(req, run, said, "confirm", form)


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
