"""Forms of the customer portal."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from requests_queue.models import EmailField


class ContactForm(FlaskForm):
    """Add or edit a contact by hand."""

    first_name = StringField("First name", validators=[Optional(), Length(max=100)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=100)])
    email = StringField("Email", validators=[Optional(), Length(max=254)])
    email2 = StringField("Email 2", validators=[Optional(), Length(max=254)])
    email3 = StringField("Email 3", validators=[Optional(), Length(max=254)])
    company = StringField("Company", validators=[Optional(), Length(max=200)])
    phone = StringField("Phone", validators=[Optional(), Length(max=50)])
    tags = StringField(
        "Tags",
        validators=[Optional(), Length(max=500)],
        description="Separate tags with commas.",
    )
    consent_recorded = BooleanField(
        "The recipient gave me permission to email the new addresses",
        description="Without this, new or changed addresses start as non-marketable.",
    )
    submit = SubmitField("Save contact")


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes, one per choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ChooseFieldsForm(FlaskForm):
    """Which email fields of the selection; sent by GET to show a preview of them."""

    class Meta:
        csrf = False  # a GET that changes nothing; the form that acts carries the token

    fields = MultiCheckboxField(
        "Email fields",
        choices=[SelectChoice(f.value, f.title) for f in EmailField],
        default=["email"],
        description="Tick one or more: each chosen field of each contact is one address.",
    )

    # An inline validator, not DataRequired: that would mark every checkbox `required`, and a
    # browser would then demand all three fields be ticked.
    def validate_fields(self, field):
        """At least one email field."""
        if not field.data:
            raise ValidationError("Choose at least one email field.")


class MassActionForm(ChooseFieldsForm):
    """Which fields and which way; sent by GET to show the preview."""

    direction = RadioField(
        "Change to",
        choices=[SelectChoice("opt_out", "Opt out"), SelectChoice("opt_in", "Opt in")],
    )

    def validate_direction(self, field):
        """Opt in or opt out."""
        if field.data not in ("opt_in", "opt_out"):
            raise ValidationError("Choose opt in or opt out.")


class ConfirmOptOutForm(FlaskForm):
    """The deliberate step before an irreversible mass opt-out."""

    confirm_count = IntegerField(
        "Type the number of addresses to opt out",
        validators=[DataRequired(message="Type the number shown above."), NumberRange(min=1)],
    )
    submit = SubmitField("Opt out these addresses")
