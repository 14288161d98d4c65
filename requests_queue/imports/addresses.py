"""The import's address check: exactly as strict as the contact form, fast for plain addresses.

email-validator costs about 25 µs an address, which alone would cap an import near 20,000
rows a second. Nearly every real address is plain ASCII of the common shape, so a compiled
regular expression accepts those; everything else (a rejection too) is decided by the same
`check_address` the contact form uses. The fast path only ever *accepts*, and only what
email-validator accepts as well: tests/requests_queue/test_import_addresses.py compares the
two on a large generated corpus.
"""

from __future__ import annotations

import re

from ..contacts import check_address
from ..errors import ValidationError

MAX_ADDRESS = 254

# RFC 5322 atext (lower-case only: the import lower-cases first), dot-separated; host labels of
# letters and digits joined by single hyphens (a hyphen pair brings in IDNA rules: xn-- and
# R-LDH labels, left to the library); a letters-only top-level name that is not one of the
# special-use names email-validator refuses.
_ATEXT = r"[a-z0-9_!#$%&'*+/=?^`{|}~-]+"
_LABEL = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_SPECIAL = r"(?:arpa|invalid|local|localhost|onion|test)"
# Used directly by the import's row loop for addresses of at most 64 characters.
PLAIN_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+(?!{_SPECIAL}\Z)[a-z]{{2,63}}")


def is_plain_valid(address: str) -> bool:
    """True when `address` (trimmed, lower-case) is a plain ASCII address email-validator accepts.

    False means "not decided here", not "invalid".
    """
    if PLAIN_ADDRESS.fullmatch(address) is None:
        return False
    # Only a long address can break the length rules (254 in all, 63 per host label).
    if len(address) > 64:
        domain = address[address.index("@") + 1 :]
        return len(address) <= MAX_ADDRESS and all(len(x) <= 63 for x in domain.split("."))
    return True


def check_import_address(raw: str) -> tuple[str, str | None]:
    """(normalised address, None) when valid, else (normalised address, the reason it is not)."""
    address = raw.strip().lower()
    if is_plain_valid(address):
        return address, None
    try:
        return check_address(address), None
    except ValidationError as exc:
        return address, exc.reason
