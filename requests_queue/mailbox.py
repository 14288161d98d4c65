"""One mailbox is one address (DOMAIN.md rule 6): the canonical form every entry point matches.

The same mailbox arrives spelled many ways: `Name@Bücher.Example`, `name@xn--bcher-kva.example`,
its local part in decomposed Unicode (NFD) or composed (NFC), with spaces around it. Each entry
point (import, the contact form, campaigns, requests, the API) stores and matches the one
canonical form: surrounding white space gone, Unicode NFC, lower-cased, the domain IDNA-encoded
(UTS #46, so `Bücher` and `xn--bcher-kva` are the same label). The account's unique key is on
that form; what the customer typed is kept beside it for display only.
"""

from __future__ import annotations

import unicodedata

import idna
from email_validator import EmailNotValidError, validate_email

from .errors import ValidationError

MAX_ADDRESS = 254


def canonical_address(raw: str) -> str:
    """The form an address is matched and stored under; never raises (validation is apart).

    Plain ASCII addresses (nearly all) cost a strip and a lower-case. A domain that is not
    valid IDNA is only lower-cased: `check_address` refuses it anyway.
    """
    text = raw.strip()
    if text.isascii():  # an ASCII domain is its own IDNA form (an invalid one is refused later)
        return text.lower()
    text = unicodedata.normalize("NFC", text)
    local, at, domain = text.rpartition("@")
    if not at:
        return unicodedata.normalize("NFC", text.lower())
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        domain = domain.lower()
    return unicodedata.normalize("NFC", local.lower()) + "@" + domain.lower()


def check_address(raw: str, field: str = "email") -> str:
    """The canonical address, or ValidationError naming `field` when it is not a valid one."""
    address = canonical_address(raw)
    if len(address) > MAX_ADDRESS:
        raise ValidationError(field, f"an email address has at most {MAX_ADDRESS} characters")
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(field, str(exc)) from None
    return address


def typed_form(raw: str, canonical: str) -> str | None:
    """What to keep of the customer's spelling: None when it is the canonical form itself."""
    typed = raw.strip()
    return typed if typed != canonical else None
