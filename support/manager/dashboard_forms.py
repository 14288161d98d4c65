"""The SLA dashboard's period form (GET); reassigning uses the desk's AssignForm."""

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional


class PeriodForm(FlaskForm):
    """From and to, team-local days, both included (a GET form: nothing to protect)."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
