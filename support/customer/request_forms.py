"""Forms of the customer's requests: the evidence, an answer to support, a withdrawal.

The rules themselves live in requests_queue.requests.evidence and run on the server; the
descriptions here explain them in plain words next to each field.
"""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectChoice,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional, ValidationError

from requests_queue.models import ListSource
from requests_queue.requests.evidence import EvidenceInput

from ..evidence_files import files_field


class EvidenceForm(FlaskForm):
    """Every piece of evidence DOMAIN.md asks for, with its rule next to it."""

    reason = TextAreaField(
        "Why are these addresses not opted in now?",
        description="At least 30 characters. For example: the list was imported without the "
        "permission flag, or the sign-up form did not sync with us.",
        render_kw={"rows": 3},
    )
    last_sent_on = DateField(
        "When did you last send an email to this list?",
        validators=[Optional()],
        description="Today or a date in the past. Never emailed it? Tick the box below instead.",
    )
    never_sent = BooleanField("I have never sent an email to this list")
    explicit_permission = RadioField(
        "Was explicit permission obtained for each contact?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        validators=[Optional()],
        description="It must be yes. Without permission, support cannot opt addresses in: "
        "they stay non-marketable until each person signs up again through your own form.",
    )
    permission_details = TextAreaField(
        "How, when and where was permission obtained?",
        description="At least 50 characters: the form or place, the wording people agreed to, "
        "and when they signed up.",
        render_kw={"rows": 4},
    )
    form_links = TextAreaField(
        "Links to your sign-up forms",
        description="One link per line, 1 to 10 links, each a full address starting with "
        "https:// or http://. Support opens them to see what people agreed to.",
        render_kw={"rows": 3, "placeholder": "https://www.example.com/newsletter"},
    )
    list_source = SelectField(
        "Where did the list come from?",
        choices=[SelectChoice("", "Choose one…")]
        + [SelectChoice(s.value, s.title) for s in ListSource],
        validators=[Optional()],
        description="The closest source. Purchased, rented or shared lists are never accepted.",
    )
    attested = BooleanField(
        "I confirm this list was not purchased, rented, borrowed or harvested, and that sending "
        "to it complies with CAN-SPAM and the acceptable-use policy."
    )
    files = files_field(
        "Screenshots of your sign-up forms, exports of consent records, PDFs: PNG, JPEG, PDF or "
        "CSV, up to {files} files of {size} each. Support sees them with your evidence."
    )
    submit = SubmitField("File the request")

    def word_for_undo(self) -> None:
        """An undo puts back what the customer's own opt-out took away: ask why in those words,
        not in the opt-in's ("not opted in now")."""
        self.reason.label.text = "Why should this mass opt-out be undone?"
        self.reason.description = (
            "At least 30 characters. For example: the opt-out ran on the wrong tag, or these "
            "people asked to keep receiving your emails."
        )
        self.last_sent_on.label.text = "When did you last email these addresses?"
        self.never_sent.label.text = "I have never emailed these addresses"
        self.submit.label.text = "File the undo request"

    def validate_never_sent(self, field) -> None:
        """A date and "never" contradict each other: ask again rather than guess."""
        if field.data and self.last_sent_on.data:
            raise ValidationError("Give the date or tick “never”, not both.")

    def evidence(self) -> EvidenceInput:
        """The typed answers, unchecked, for the domain's rules."""
        last_sent = self.last_sent_on.data or ("never" if self.never_sent.data else None)
        return EvidenceInput(
            reason=self.reason.data or "",
            last_sent=last_sent,
            explicit_permission=self.explicit_permission.data or "",
            permission_details=self.permission_details.data or "",
            form_links=tuple((self.form_links.data or "").splitlines()),
            list_source=self.list_source.data or "",
            attested=bool(self.attested.data),
        )


class AnswerForm(FlaskForm):
    """The customer's reply to support's question."""

    answer = TextAreaField(
        "Your answer",
        description="Support sees it at once and the review continues. Evidence already filed "
        "cannot be changed; add anything new here.",
        render_kw={"rows": 4},
    )
    files = files_field("PNG, JPEG, PDF or CSV, up to {files} files of {size} each.")
    submit = SubmitField("Send the answer")


class WithdrawForm(FlaskForm):
    """Take the request back before support decides."""

    submit = SubmitField("Withdraw the request")
