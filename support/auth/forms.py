"""Login, password change and the sign-out buttons."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from .passwords import MIN_LENGTH


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(
        "Email", validators=[DataRequired(message="Enter your email address."), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])
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
