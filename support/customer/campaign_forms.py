"""Forms of the double opt-in campaign pages."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from requests_queue.campaigns.content import BODY_MAX, SUBJECT_MAX
from requests_queue.models import CampaignTemplate

from .forms import ChooseFieldsForm


class CampaignFieldsForm(ChooseFieldsForm):
    """Which address fields of the selection get a confirmation (the preview shows who)."""


class CampaignForm(FlaskForm):
    """What the confirmation says; 'Show the email' previews it, 'Send' queues it."""

    template = RadioField(
        "Email to send",
        choices=[SelectChoice(t.value, t.title) for t in CampaignTemplate],
        default=CampaignTemplate.provided.value,
        validators=[DataRequired()],
    )
    subject = StringField(
        "Subject",
        validators=[Optional(), Length(max=SUBJECT_MAX)],
        description="Used with “Own subject and text”. {account_name} becomes your account's name.",
    )
    body = TextAreaField(
        "Text",
        validators=[Optional(), Length(max=BODY_MAX)],
        description=(
            "Used with “Own subject and text”. It must contain {confirm_link} and "
            "{unsubscribe_link}, which become each recipient's personal links."
        ),
        render_kw={"rows": 14},
    )
    expected_count = HiddenField()
    preview = SubmitField("Show the email")
    send = SubmitField("Send confirmations")
