"""Domain errors shown on forms: next to the field they name, or above the form."""

from collections.abc import Iterable

from requests_queue.errors import ValidationError


def sentence(text: str) -> str:
    """A domain reason as a sentence: first letter upper-cased, the rest untouched."""
    return text[:1].upper() + text[1:]


def attach_errors(form, errors: Iterable[ValidationError]) -> None:
    """Put domain errors next to the fields they name (form-wide when they name none)."""
    for exc in errors:
        target = getattr(form, exc.field, None) if exc.field else None
        if target is None:
            form.form_errors.append(sentence(exc.reason))
        else:
            target.errors = [*target.errors, sentence(exc.reason)]
