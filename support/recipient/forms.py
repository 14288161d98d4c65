"""The recipient's buttons: a form carries only its CSRF token; the link's token is the key."""

from flask_wtf import FlaskForm
from wtforms import SubmitField


class ConfirmForm(FlaskForm):
    """The deliberate click that confirms (a mail scanner's prefetch is a GET, never this)."""

    submit = SubmitField("Yes, keep sending me emails")


class UnsubscribeForm(FlaskForm):
    """The click that unsubscribes."""

    submit = SubmitField("Unsubscribe")
