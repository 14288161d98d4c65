"""The saved-reply pickers of the review page's ask and reject forms.

Both pickers and their "Use" buttons belong to the approve form (HTML `form` attribute), so a
click sends the evidence checklist's ticks along: `{missing_evidence}` names the unticked items.
"""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField
from wtforms.validators import Optional

from requests_queue.models import ReplyPurpose, SavedReply
from requests_queue.requests.saved_replies import visible_replies

from ..auth.session import current_actor
from ..extensions import db

# The form on the review page each purpose is offered on, and the picker's field there.
TARGETS = {"ask": ReplyPurpose.question, "reject": ReplyPurpose.rejection}


class PickReplyForm(FlaskForm):
    """A saved reply for the question, and one for the rejection message."""

    class Meta:
        csrf = False  # sent with the approve form, whose token it carries

    # Any id is read; one the user may not see is a 404 (saved_replies.get_reply).
    ask_reply = SelectField(
        "Saved reply", coerce=int, validators=[Optional()], validate_choice=False
    )
    reject_reply = SelectField(
        "Saved reply", coerce=int, validators=[Optional()], validate_choice=False
    )


def _choices(replies: list[SavedReply], purpose: ReplyPurpose) -> list[SelectChoice]:
    mine = [
        SelectChoice(r.id, f"{'Shared' if r.is_shared else 'Mine'} · {r.title}")
        for r in replies
        if r.purpose is purpose
    ]
    return [SelectChoice(0, "Choose a saved reply…"), *mine]


def pick_form(submitted: bool = False) -> PickReplyForm:
    """The pickers with the replies the current user may use (posted values when `submitted`)."""
    form = PickReplyForm() if submitted else PickReplyForm(formdata=None)
    replies = visible_replies(db.session, current_actor())
    for target, purpose in TARGETS.items():
        form[f"{target}_reply"].choices = _choices(replies, purpose)
    return form
