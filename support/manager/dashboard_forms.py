"""Forms of the SLA dashboard: the period's dates (GET) and reassigning a request."""

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SubmitField
from wtforms.validators import Optional


class PeriodForm(FlaskForm):
    """From and to, team-local days, both included (a GET form: nothing to protect)."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])


class ReassignForm(FlaskForm):
    """Give an at-risk or breached request to another agent or manager."""

    assignee = SelectField("Reassign to", coerce=int, validators=[Optional()])
    submit = SubmitField("Reassign")
