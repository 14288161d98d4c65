"""Forms of the agent desk; their field names differ so several share the review page."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional

from requests_queue.models import RejectReason, ReplyPurpose
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.saved_replies import PLACEHOLDERS


class ClaimForm(FlaskForm):
    """Take an unclaimed request."""

    submit = SubmitField("Claim")


class AssignForm(FlaskForm):
    """A manager gives the request to a support user (review page and dashboard alike)."""

    assignee = SelectField("Assign to", coerce=int, validators=[Optional()])
    submit = SubmitField("Assign")


class AskForm(FlaskForm):
    """A question for the customer."""

    question = TextAreaField(
        "Ask the customer",
        description="The customer gets an email. The request waits for the answer, "
        "and the SLA clock pauses meanwhile.",
        render_kw={"rows": 3},
    )
    submit = SubmitField("Send the question")


class NoteForm(FlaskForm):
    """A note only support sees."""

    note = TextAreaField(
        "Internal note",
        description="Only support sees it; the customer never does.",
        render_kw={"rows": 2},
    )
    submit = SubmitField("Add the note")


class ApproveForm(FlaskForm):
    """Approve; the checklist boxes sit next to each piece of evidence (form attribute)."""

    checklist = SelectMultipleField(
        "Evidence checked", choices=[SelectChoice(k, t) for k, t in CHECKLIST]
    )
    # One tick for the whole list; each box stays on the page (review.js ticks them all).
    all_checked = BooleanField("All checked")
    # Empty on the first press: the page then says what approving will do and asks again.
    confirmed = HiddenField()
    submit = SubmitField("Approve and apply")
    confirming = None  # after the first press: what approving would do (eligibility now)
    refusal = ""  # after the first press: why it cannot be approved, shown by the button

    def ticked(self) -> list[str]:
        """The evidence items ticked; "All checked" ticks every one."""
        if self.all_checked.data:
            return [key for key, _ in CHECKLIST]
        return self.checklist.data or []


class RejectForm(FlaskForm):
    """Reject with a reason from the list and a message for the customer."""

    reason = SelectField(
        "Reason",
        choices=[SelectChoice("", "Choose a reason…")]
        + [SelectChoice(r.value, r.title) for r in RejectReason],
        validators=[Optional()],
    )
    message = TextAreaField(
        "Message to the customer",
        description="The customer reads this with the reason.",
        render_kw={"rows": 3},
    )
    submit = SubmitField("Reject")


class ReplyForm(FlaskForm):
    """A saved reply: its title, where it is offered, its text (and, for managers, shared)."""

    title = StringField("Title", description="How you find it in the list.")
    purpose = SelectField(
        "Offered on",
        choices=[SelectChoice("", "Choose a form…")]
        + [SelectChoice(p.value, p.title) for p in ReplyPurpose],
        validators=[Optional()],
    )
    body = TextAreaField(
        "Text",
        description="Placeholders filled from the request: "
        + ", ".join(f"{{{n}}}" for n in PLACEHOLDERS)
        + ". Write {{ or }} for a literal brace.",
        render_kw={"rows": 6},
    )
    shared = BooleanField("Shared with every agent")
    submit = SubmitField("Save the reply")


class DeleteReplyForm(FlaskForm):
    """Remove a saved reply."""

    submit = SubmitField("Delete")


class BulkForm(FlaskForm):
    """One action on the requests ticked on the queue page (their boxes carry form=bulk-form)."""

    selected = SelectMultipleField("Selected requests", validate_choice=False)
    action = SelectField(
        "With the selected requests",
        choices=[
            SelectChoice("claim", "Claim them"),
            SelectChoice("assign", "Assign them to…"),
            SelectChoice("note", "Add an internal note"),
        ],
    )
    bulk_assignee = SelectField("Assign to", coerce=int, validators=[Optional()])
    bulk_note = TextAreaField(
        "Internal note", description="Only support sees it.", render_kw={"rows": 2}
    )
    submit = SubmitField("Apply to the selected")


class ConfirmForm(ApproveForm):
    """The second agent's confirmation of a big approval: the same checklist, then applied."""

    submit = SubmitField("Confirm and apply")


class ReturnForm(FlaskForm):
    """The second agent sends a first approval back to review, saying why."""

    note = TextAreaField(
        "Why it needs another look",
        description="Support only: the first approver reads it on the timeline.",
        render_kw={"rows": 2},
    )
    submit = SubmitField("Return to review")
