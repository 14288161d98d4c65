"""Forms of the agent desk; their field names differ so several share the review page."""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import Optional

from requests_queue.models import RejectReason
from requests_queue.requests.evidence import CHECKLIST


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
    submit = SubmitField("Approve and apply")


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
