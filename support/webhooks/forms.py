"""Forms of the webhook settings pages."""

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from ..customer.forms import MultiCheckboxField


class EndpointForm(FlaskForm):
    """A URL, the events it wants and a note to recognise it by."""

    url = StringField(
        "URL",
        validators=[Length(max=2000)],
        description="An https:// address on the public internet that accepts POST requests.",
    )
    events = MultiCheckboxField("Events", validate_choice=False)  # the domain names bad ones
    description = StringField(
        "Description",
        validators=[Length(max=200)],
        description="Optional: what receives them, e.g. “CRM sync”.",
    )
    submit = SubmitField("Add endpoint")


class ButtonForm(FlaskForm):
    """The CSRF token of a one-button form (rotate, retry, delete)."""

    submit = SubmitField("Go")
