"""The evidence a customer must give with a request (DOMAIN.md: Requests), checked on the server.

Each rule raises `ValidationError(field, reason)` naming the form field it belongs to;
`evidence_problems` collects every broken rule at once so a form can show them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from ..errors import ValidationError
from ..models import ListSource

MIN_REASON = 30
MIN_DETAILS = 50
MAX_TEXT = 5000
MAX_LINKS = 10
MAX_LINK_LENGTH = 2000
# The latest local date anywhere on Earth is UTC+14: a date is "in the future" only after that.
EARLIEST_ZONE_AHEAD = timedelta(hours=14)
# DOMAIN.md: without permission the addresses stay non-marketable until each recipient signs
# up again through the customer's own form; double opt-in is only for single opt-in addresses,
# so it is never the advice here.
NO_PERMISSION_HINT = (
    "Without explicit permission for every contact these addresses cannot be opted in, "
    "and support cannot approve such a request. They stay non-marketable until each person "
    "signs up again through your own sign-up form."
)

Never = Literal["never"]

# The evidence items an agent checks one by one before approving (key, what to check).
CHECKLIST = (
    ("reason", "Why not opted in now"),
    ("last_sent", "Last email sent"),
    ("explicit_permission", "Explicit permission for each contact"),
    ("permission_details", "How, when and where permission was obtained"),
    ("form_links", "Sign-up form links"),
    ("list_source", "List source"),
    ("attestation", "Attestation"),
)


def checklist_problem(checklist: Iterable[str]) -> str | None:
    """Why an approval with these ticks is refused (None: every piece of evidence is checked);
    the confirm step asks it before showing what an approval would do."""
    ticked = set(checklist)
    missing = [title for key, title in CHECKLIST if key not in ticked]
    if not missing:
        return None
    return "check every piece of evidence before approving; not checked: " + ", ".join(missing)


@dataclass(frozen=True)
class EvidenceInput:
    """What the customer typed, unchecked."""

    reason: str = ""
    last_sent: date | Never | None = None  # a date, "never", or not answered
    explicit_permission: str = ""  # "yes" or "no"
    permission_details: str = ""
    form_links: tuple[str, ...] = ()
    list_source: str = ""
    attested: bool = False


@dataclass(frozen=True)
class Evidence:
    """Evidence that passed every rule, ready to be stored with the request."""

    reason: str
    last_sent_on: date | None  # None means the list was never sent to
    permission_details: str
    form_links: tuple[str, ...]
    list_source: ListSource
    attested: bool = field(default=True)

    @property
    def never_sent(self) -> bool:
        """True when the customer says the list was never emailed."""
        return self.last_sent_on is None


def _text(value: str, name: str, minimum: int, what: str) -> str:
    text = value.strip()
    if not text:
        raise ValidationError(name, f"{what} is required")
    if len(text) < minimum:
        raise ValidationError(
            name, f"write at least {minimum} characters ({len(text)} so far): {what.lower()}"
        )
    if len(text) > MAX_TEXT:
        raise ValidationError(name, f"keep it under {MAX_TEXT} characters")
    return text


def check_reason(value: str) -> str:
    """Why the addresses are not opted in now: at least 30 characters."""
    return _text(value, "reason", MIN_REASON, "Why these addresses are not opted in now")


def check_last_sent(value: date | Never | None, now: datetime) -> date | None:
    """The date of the last email to this list, not in the future; None means never."""
    if value == "never":
        return None
    if value is None:
        raise ValidationError(
            "last_sent_on", "enter the date of the last email you sent to this list, or say never"
        )
    if value > (now + EARLIEST_ZONE_AHEAD).date():
        raise ValidationError("last_sent_on", "the date cannot be in the future")
    return value


def check_permission(value: str) -> None:
    """Explicit permission must be "yes"; "no" stops the filing and says why."""
    answer = value.strip().lower()
    if answer == "yes":
        return
    if answer == "no":
        raise ValidationError("explicit_permission", NO_PERMISSION_HINT)
    raise ValidationError(
        "explicit_permission", "answer whether explicit permission was obtained for each contact"
    )


def check_permission_details(value: str) -> str:
    """How, when and where permission was obtained: at least 50 characters."""
    return _text(
        value, "permission_details", MIN_DETAILS, "How, when and where permission was obtained"
    )


def check_link(raw: str) -> str:
    """One absolute http(s) URL, returned trimmed."""
    link = raw.strip()
    if len(link) > MAX_LINK_LENGTH:
        raise ValidationError("form_links", f"a link has at most {MAX_LINK_LENGTH} characters")
    if any(ch.isspace() for ch in link):
        raise ValidationError("form_links", f"“{link[:80]}” contains spaces: one link per line")
    try:
        parts = urlsplit(link)
        host = parts.hostname
    except ValueError:
        host, parts = None, None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        raise ValidationError(
            "form_links",
            f"“{link[:80]}” is not a full web address; it must start with https:// or http://",
        )
    return link


def check_form_links(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """1–10 links to the sign-up forms, each an absolute http(s) URL (duplicates dropped)."""
    links = tuple(dict.fromkeys(check_link(v) for v in values if v.strip()))
    if not links:
        raise ValidationError("form_links", "give at least one link to a sign-up form")
    if len(links) > MAX_LINKS:
        raise ValidationError("form_links", f"give at most {MAX_LINKS} links ({len(links)} given)")
    return links


def check_list_source(value: str) -> ListSource:
    """One of the fixed list sources."""
    try:
        return ListSource(value)
    except ValueError:
        raise ValidationError("list_source", "choose where the list came from") from None


def check_attestation(value: bool) -> None:
    """The customer must attest the list was not bought and sending complies with the law."""
    if value is not True:
        raise ValidationError(
            "attested",
            "you must confirm the list was not purchased, rented, borrowed or harvested "
            "and that sending complies with CAN-SPAM and our acceptable-use policy",
        )


def _rules(raw: EvidenceInput, now: datetime) -> list[Callable[[], object]]:
    return [
        lambda: check_reason(raw.reason),
        lambda: check_last_sent(raw.last_sent, now),
        lambda: check_permission(raw.explicit_permission),
        lambda: check_permission_details(raw.permission_details),
        lambda: check_form_links(raw.form_links),
        lambda: check_list_source(raw.list_source),
        lambda: check_attestation(raw.attested),
    ]


def evidence_problems(raw: EvidenceInput, now: datetime) -> list[ValidationError]:
    """Every broken rule, in form order (empty when the evidence is complete)."""
    problems = []
    for rule in _rules(raw, now):
        try:
            rule()
        except ValidationError as exc:
            problems.append(exc)
    return problems


def check_evidence(raw: EvidenceInput, now: datetime) -> Evidence:
    """The checked evidence, or the first broken rule as a ValidationError."""
    problems = evidence_problems(raw, now)
    if problems:
        raise problems[0]
    return Evidence(
        reason=raw.reason.strip(),
        last_sent_on=check_last_sent(raw.last_sent, now),
        permission_details=raw.permission_details.strip(),
        form_links=check_form_links(raw.form_links),
        list_source=ListSource(raw.list_source),
    )
