"""Domain errors shown on forms: next to the field they name, or above the form."""

from collections.abc import Callable, Iterable

from requests_queue.errors import ValidationError

# Finds the field a domain error names on a form (None: show it above the form).
Locate = Callable[[object, str | None], object | None]


def sentence(text: str) -> str:
    """A domain reason as a sentence: first letter upper-cased, the rest untouched."""
    return text[:1].upper() + text[1:]


def refusal(exc: Exception, about: str = "") -> str:
    """The one wording of a refused operation, on a page, in a flash or in an API problem: the
    domain's reason as a sentence, after what it was about (a request's number on a page that
    lists many)."""
    reason = sentence(exc.reason if isinstance(exc, ValidationError) else str(exc)) + "."
    return f"{about}: {reason}" if about else reason


def field_named(form, name: str | None):
    """The form's field called `name`, or None when it names none."""
    return getattr(form, name, None) if name else None


def attach_errors(form, errors: Iterable[ValidationError], locate: Locate = field_named) -> None:
    """Put domain errors next to the fields they name (form-wide when they name none).

    `locate` maps a name to a field where the names are not plain attributes (a FieldList's
    entries, say, or a form that puts every unnamed refusal next to one field).
    """
    for exc in errors:
        target = locate(form, exc.field)
        if target is None:
            form.form_errors.append(sentence(exc.reason))
        else:
            target.errors = [*target.errors, sentence(exc.reason)]
