"""Where a `next` parameter may send someone after login: a page of this site, nothing else."""

import unicodedata
from urllib.parse import unquote, urlsplit


def safe_next(target: str) -> str | None:
    """`target` if it is a path on this site; None for anything a browser could take off-site."""
    if not target or _has_forbidden_character(target) or _has_forbidden_character(unquote(target)):
        return None
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. an unbalanced "[" taken for an IPv6 host
        return None
    # Browsers read "//host", "/\\host" and "/\t/host" (tabs and newlines are dropped) as
    # another site, so a path must start with exactly one "/" and hold no scheme or host.
    if parts.scheme or parts.netloc:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target


def _has_forbidden_character(text: str) -> bool:
    # Control, format and separator characters (C* and Z*: tab, CR/LF, NUL, spaces, bidi marks)
    # and backslashes never belong in a path we redirect to; CR/LF would also break the header.
    return any(ch == "\\" or unicodedata.category(ch)[0] in "CZ" for ch in text)
