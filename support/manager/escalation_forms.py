"""Forms of four-eyes approval's setting (the reassign confirm page uses the desk's AssignForm)."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField
from wtforms.validators import InputRequired


class ThresholdForm(FlaskForm):
    """Above how many addresses an approval needs a second agent's confirmation."""

    threshold = IntegerField(
        "Second review above (addresses)",
        validators=[InputRequired("Enter a number of addresses.")],
        description="An approval of a request with more addresses than this waits for a second "
        "agent's confirmation. 0 asks for a second review of every request.",
        render_kw={"min": 0, "inputmode": "numeric"},
    )
    submit = SubmitField("Save")
