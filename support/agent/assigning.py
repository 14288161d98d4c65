"""The one assign flow: a manager gives a request to an agent or manager, from the review
page or from a row of the SLA dashboard; only where the refused form is shown differs."""

from typing import NamedTuple

import sqlalchemy as sa
from flask import flash
from sqlalchemy.orm import load_only
from wtforms import SelectChoice

from requests_queue.models import ConsentRequest, Role, User
from requests_queue.now import now_utc
from requests_queue.requests.access import has_role_for
from requests_queue.requests.lifecycle import assign_request
from requests_queue.requests.state_machine import Action

from ..auth.session import current_actor
from ..edge import Outcome, perform
from ..extensions import db
from ..kept_facts import kept
from .forms import AssignForm, BulkForm

NOBODY = 0  # the placeholder choice, so nobody is assigned by accident


class Staff(NamedTuple):
    """An agent or manager as the assignee lists show them."""

    id: int
    display_name: str


def support_users() -> list[Staff]:
    """Active agents and managers, by name, for the assignee filter and the assign form (kept
    while the queue's version stays: users are what it watches)."""

    def read() -> list[Staff]:
        users = db.session.scalars(
            sa.select(User)
            .where(User.role.in_([Role.agent, Role.manager]), User.is_active.is_(True))
            .order_by(User.name, User.email)
            .options(load_only(User.id, User.name, User.email))
        )
        return [Staff(u.id, u.display_name) for u in users]

    return kept("support_users", read)


def assign_form(submitted: bool = True) -> AssignForm:
    """The assign form with the active support users to choose from, filled from the posted
    data only when it is the form that was `submitted`."""
    form = AssignForm() if submitted else AssignForm(formdata=None)
    form.assignee.choices = [SelectChoice(NOBODY, "Choose someone…")] + [
        SelectChoice(u.id, u.display_name) for u in support_users()
    ]
    return form


def bulk_form() -> BulkForm:
    """The queue's bulk form, its assignee list the same as the assign form's."""
    form = BulkForm()
    form.bulk_assignee.choices = assign_form(submitted=False).assignee.choices
    if not has_role_for(Action.assign, current_actor()):  # managers only (state_machine.TABLE)
        form.action.choices = [c for c in form.action.choices if c.value != "assign"]
    return form


def assign_from_form(req: ConsentRequest, form: AssignForm) -> Outcome:
    """Assign `req` to the user chosen on `form`, committed and flashed (see edge.perform)."""
    chosen = form.validate() and form.assignee.data
    user = db.session.get(User, form.assignee.data) if chosen else None
    if user is None:
        if not form.assignee.errors:
            form.assignee.errors = ["Choose an agent or manager."]
        return Outcome.invalid
    outcome = perform(
        lambda: assign_request(db.session, req, user, current_actor(), now_utc()),
        form,
        about=req.number,
    )
    if outcome is Outcome.done:
        flash(f"{req.number} is assigned to {user.display_name}.", "success")
    return outcome
