"""The edge of every state-changing view: one domain operation, then one commit or a rollback.

Operations flush and never commit (requests_queue/); the view hands its operation to `perform`,
which commits when it returns and rolls back when the domain refuses it, turning the refusal
into what the user sees: a form error next to the field (ValidationError, through
form_errors.attach_errors), a flashed sentence (a move the state machine refuses, or somebody
else acting first), a 403 (NotAllowed) or a 404 (NotFound). Anything else propagates; the
session is removed, and so rolled back, when the request ends (Flask-SQLAlchemy's teardown).
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from flask import abort, flash

from requests_queue.errors import Conflict, InvalidTransition, NotFound, ValidationError
from requests_queue.requests.lifecycle import NotAllowed

from .extensions import db
from .form_errors import attach_errors, sentence


class Outcome(enum.Enum):
    """How an operation ended, so the view knows what to show next."""

    done = "done"  # committed: flash success and redirect
    invalid = "invalid"  # rolled back, errors on the form: show the form again (400)
    refused = "refused"  # rolled back, the reason flashed: redirect back


def refusal(exc: Exception, about: str = "") -> str:
    """The one wording of a refused operation: the domain's reason as a sentence, after what
    it was about (a request's number on a page that lists many)."""
    reason = sentence(exc.reason if isinstance(exc, ValidationError) else str(exc)) + "."
    return f"{about}: {reason}" if about else reason


def perform(run: Callable[[], object], form=None, about: str = "") -> Outcome:
    """Run one operation and commit, or roll back and report why it was refused."""
    try:
        run()
    except ValidationError as exc:
        db.session.rollback()
        if form is None:
            flash(refusal(exc, about), "error")
            return Outcome.refused
        attach_errors(form, [exc])
        return Outcome.invalid
    except (InvalidTransition, Conflict) as exc:
        db.session.rollback()
        flash(refusal(exc, about), "error")
        return Outcome.refused
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except NotFound:
        db.session.rollback()
        abort(404)
    db.session.commit()
    return Outcome.done
