"""The import's address check: exactly as strict as the contact form, fast for plain addresses.

email-validator costs about 25 µs an address, which alone would cap an import near 20,000
rows a second. Nearly every real address is plain ASCII of the common shape, so a compiled
regular expression accepts those; everything else (a rejection too) is decided by the same
`check_address` the contact form uses. The fast path only ever *accepts*, and only what
email-validator accepts as well: tests/requests_queue/test_import_addresses.py compares the
two on a large generated corpus, for the one-address and the whole-column form alike.
"""

from __future__ import annotations

import re

from ..errors import ValidationError
from ..mailbox import canonical_address, check_address

MAX_ADDRESS = 254
# Up to this length an address cannot break a length rule (254 in all, 63 per host label).
SHORT_ADDRESS = 64

# RFC 5322 atext (lower-case only: the import lower-cases first), dot-separated; host labels of
# letters and digits joined by single hyphens (a hyphen pair brings in IDNA rules: xn-- and
# R-LDH labels, left to the library); a letters-only top-level name that is not one of the
# special-use names email-validator refuses. The quantifiers are possessive: no part can give
# characters back to the next (atext holds no dot or @, a label no dot), so backtracking would
# only ever fail again, and skipping it halves the time per address.
_ATEXT = r"[a-z0-9_!#$%&'*+/=?^`{|}~-]++"
_LABEL = r"[a-z0-9]++(?:-[a-z0-9]++)*+"
_SPECIAL = r"(?:arpa|invalid|local|localhost|onion|test)"


def _plain(end: str) -> str:
    return rf"{_ATEXT}(?:\.{_ATEXT})*+@(?:{_LABEL}\.)++(?!{_SPECIAL}{end})[a-z]{{2,63}}"


PLAIN_ADDRESS = re.compile(_plain(r"\Z"))
# A whole column at once, one address (or nothing) per line: one C call for thousands of them.
_PLAIN_LINES = re.compile(rf"(?:(?:{_plain(chr(10))})?\n)*+")


def is_plain_valid(address: str) -> bool:
    """True when `address` (trimmed, lower-case) is a plain ASCII address email-validator accepts.

    False means "not decided here", not "invalid".
    """
    if PLAIN_ADDRESS.fullmatch(address) is None:
        return False
    if len(address) > SHORT_ADDRESS:
        domain = address[address.index("@") + 1 :]
        return len(address) <= MAX_ADDRESS and all(len(x) <= 63 for x in domain.split("."))
    return True


def undecided(addresses: list[str]) -> list[int]:
    """Indexes of the addresses (trimmed, lower-case; "" for none) the fast path cannot accept.

    Empty entries are accepted. Equivalent to `not is_plain_valid(a)` for each non-empty
    entry, but the regular expression runs once over the column joined by newlines.
    """
    text = "\n".join(addresses) + "\n"
    if text.count("\n") != len(addresses):  # a cell with a line break: one at a time
        return [i for i, a in enumerate(addresses) if a and not is_plain_valid(a)]
    out, index, pos, end = [], 0, 0, len(text)
    while True:
        stop = _PLAIN_LINES.match(text, pos).end()
        if stop == end:
            break
        # The match stops at the start of the first address it cannot accept.
        index += text.count("\n", pos, stop)
        out.append(index)
        pos = stop + len(addresses[index]) + 1
        index += 1
    if max(map(len, addresses)) > SHORT_ADDRESS:  # long ones need the length rules too
        out.extend(
            i for i, a in enumerate(addresses) if len(a) > SHORT_ADDRESS and not is_plain_valid(a)
        )
        out = sorted(set(out))
    return out


def check_import_address(raw: str) -> tuple[str, str | None]:
    """(canonical address, None) when valid, else (canonical address, the reason it is not)."""
    address = canonical_address(raw)
    if is_plain_valid(address):
        return address, None
    try:
        return check_address(address), None
    except ValidationError as exc:
        return address, exc.reason
