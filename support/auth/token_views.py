"""Personal API tokens on the user's account: create (shown once), list, revoke."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField, SubmitField
from wtforms.validators import Length

from requests_queue.api_tokens import create_token, revoke_token, user_tokens
from requests_queue.models import TokenScope
from requests_queue.now import now_utc

from ..edge import operation
from ..extensions import db
from .views import bp


class TokenForm(FlaskForm):
    """A name to recognise the token by, and what it may do."""

    name = StringField(
        "Name",
        validators=[Length(max=80)],
        description="What will use it, e.g. “Sending pipeline” or “Nightly import script”.",
    )
    scope = RadioField(
        "It may",
        choices=[
            SelectChoice(TokenScope.read.value, "Read only (send-time checks, lists, requests)"),
            SelectChoice(TokenScope.write.value, "Read and write (also import, opt out, file)"),
        ],
        default=TokenScope.read.value,
    )
    submit = SubmitField("Create token")


class RevokeForm(FlaskForm):
    """The revoke button's CSRF token."""

    submit = SubmitField("Revoke")


def _page(form: TokenForm, secret: str | None = None, status: int = 200):
    return render_template(
        "auth/tokens.html",
        form=form,
        revoke_form=RevokeForm(),
        tokens=user_tokens(db.session, current_user.id),
        secret=secret,
    ), status


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """The user's API tokens; a new one is shown once, right here, and never again."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400 if form.is_submitted() else 200)
    with operation(form) as op:
        new = create_token(
            db.session,
            current_user._get_current_object(),
            form.name.data,
            form.scope.data,
            now_utc(),
        )
    if not op.done:
        return _page(form, status=400)
    # Rendered, not flashed: a flash would travel in the (signed, not encrypted) cookie.
    return _page(TokenForm(formdata=None), secret=new.secret)


@bp.route("/account/tokens/<id:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    """Revoke one of the user's tokens: every call with it is refused from now on."""
    if not RevokeForm().validate_on_submit():
        abort(400)
    with operation():  # NotFound: a 404
        token = revoke_token(db.session, current_user.id, token_id, now_utc())
    flash(f"Token “{token.name}” ({token.prefix}…) is revoked.", "success")
    return redirect(url_for("auth.tokens"))
