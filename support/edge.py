"""The edge of every state-changing view: one domain operation, then one commit or a rollback.

Operations flush and never commit (requests_queue/); the view runs its operation inside
`with operation(form) as op:` (or hands it to `perform`), which commits when the block ends
and rolls back when the domain refuses it, turning the refusal
into what the user sees: a form error next to the field (ValidationError, through
form_errors.attach_errors), a flashed sentence (a move the state machine refuses, or somebody
else acting first), a 403 (NotAllowed) or a 404 (NotFound). Anything else propagates; the
session is removed, and so rolled back, when the request ends (Flask-SQLAlchemy's teardown).

Where a refusal is answered by something else (the API's problems, api/problems.py; a
recipient's page; a provider's delivery; a view that catches the one refusal it expects), the
view runs its operation inside `with committed():`, which commits the same way and rolls back
before letting any error go on.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import abort, flash

from requests_queue.errors import DomainError, NotFound, ValidationError
from requests_queue.requests.state_machine import NotAllowed

from .extensions import db
from .form_errors import Locate, attach_errors, field_named, refusal


class Outcome(enum.Enum):
    """How an operation ended, so the view knows what to show next."""

    done = "done"  # committed: flash success and redirect
    invalid = "invalid"  # rolled back, errors on the form: show the form again (400)
    refused = "refused"  # rolled back, the reason flashed: redirect back


class operation:  # noqa: N801 (used as a statement: `with operation(form) as op:`)
    """Run the `with` block as one operation: commit when it ends, or roll back when the domain
    refuses it and show why; `op.outcome` then tells the view what to show next."""

    def __init__(self, form=None, about: str = "", locate: Locate = field_named):
        self.form, self.about, self.locate = form, about, locate
        self.outcome: Outcome | None = None

    def __enter__(self) -> operation:
        return self

    def __exit__(self, kind, exc, traceback) -> bool:
        if exc is None:
            db.session.commit()
            self.outcome = Outcome.done
            return False
        if not isinstance(exc, DomainError):
            return False  # a bug or an outage: the error pages and the teardown handle it
        db.session.rollback()
        if isinstance(exc, NotAllowed):
            abort(403)
        if isinstance(exc, NotFound):
            abort(404)
        if isinstance(exc, ValidationError) and self.form is not None:
            attach_errors(self.form, [exc], self.locate)
            self.outcome = Outcome.invalid
        else:  # a move the rules refuse, somebody else first, or a refusal without a form
            flash(refusal(exc, self.about), "error")
            self.outcome = Outcome.refused
        return True

    @property
    def done(self) -> bool:
        """The operation was committed."""
        return self.outcome is Outcome.done


def perform(run: Callable[[], object], form=None, about: str = "") -> Outcome:
    """Run one operation and commit, or roll back and report why it was refused."""
    with operation(form, about) as op:
        run()
    return op.outcome


@contextmanager
def committed() -> Iterator[None]:
    """Commit when the block ends; on any error (the commit's own too) roll back, then let the
    error go on to whatever answers it: the API's problem handlers, or the view's `except`."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
