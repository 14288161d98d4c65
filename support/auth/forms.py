"""Login, password change and the sign-out buttons."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from requests_queue.time_zones import timezone_names

from .passwords import MIN_LENGTH


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(
        "Email", validators=[DataRequired(message="Enter your email address."), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])
    # Filled by static/time-zone.js with the browser's zone; the first login keeps it.
    browser_time_zone = HiddenField(render_kw={"data-browser-zone": ""})
    submit = SubmitField("Log in")


class PasswordChangeForm(FlaskForm):
    """The current password, and the new one twice (the same rule as `flask create-user`)."""

    current_password = PasswordField(
        "Current password", validators=[DataRequired(message="Enter your current password.")]
    )
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(message="Enter a new password."),
            Length(min=MIN_LENGTH, message=f"Use at least {MIN_LENGTH} characters."),
        ],
    )
    new_password_again = PasswordField(
        "New password again",
        validators=[
            DataRequired(message="Enter the new password again."),
            EqualTo("new_password", message="The two new passwords differ."),
        ],
    )
    submit = SubmitField("Change password")


class SignOutEverywhereForm(FlaskForm):
    """A button (a POST with a CSRF token, so another site cannot press it)."""

    submit = SubmitField("Sign out everywhere")


class TimeZoneForm(FlaskForm):
    """The zone every time is shown in (checked by requests_queue.time_zones.set_time_zone)."""

    time_zone = SelectField(
        "Your time zone",
        validate_choice=False,  # the domain refuses an unknown name, with its own words
        description="Every date and time on these pages is shown in this zone, with its name.",
    )
    submit = SubmitField("Save time zone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = list(timezone_names())
