"""The feed settings form: provider (on creation), name, credential, soft-bounce limit."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from requests_queue.models.feedback import FeedProvider


class FeedForm(FlaskForm):
    """One feed's settings; the credential field is never filled back in."""

    provider = SelectField(
        "Provider",
        choices=[SelectChoice(p.value, p.title) for p in FeedProvider],
        default="postmark",
    )
    name = StringField("Name", validators=[InputRequired(), Length(max=80)])
    secret = PasswordField(
        "Key or password",
        validators=[Length(max=2000)],
        description="SendGrid: the verification key; Mailgun: the HTTP webhook signing key; "
        "Generic: the whsec_ secret; Postmark: the basic-auth password (optional). "
        "Leave empty to keep the stored one. Stored encrypted and never shown again.",
    )
    username = StringField(
        "Basic-auth user name (Postmark)", validators=[Optional(), Length(max=80)]
    )
    topic_arn = StringField(
        "SNS topic ARN (SES, optional)",
        validators=[Optional(), Length(max=256)],
        description="When set, messages from any other topic are refused.",
    )
    soft_bounce_limit = IntegerField(
        "Soft bounces before they are recorded", default=3, validators=[NumberRange(1, 100)]
    )
    soft_bounce_window_hours = IntegerField(
        "… within this many hours", default=72, validators=[NumberRange(1, 24 * 90)]
    )
    is_enabled = BooleanField("Accept deliveries on this feed", default=True)
    submit = SubmitField("Save feed")
