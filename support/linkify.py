"""Text that people typed, shown with its web addresses as links and nothing else as markup."""

import re

from markupsafe import Markup, escape

# An http(s) address up to a space or a character that cannot be in one unescaped; what ends a
# sentence (a full stop, a closing bracket) is left out of the link.
_LINK = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"


def linkify(text: str | None) -> Markup:
    """Text with its http(s) addresses made links; everything else, `javascript:` too, stays
    text. The links open in a new tab and tell the site nothing of where they came from."""
    text = text or ""
    parts, last = [], 0
    for match in _LINK.finditer(text):
        url = match.group().rstrip(_TRAILING)
        start, end = match.start(), match.start() + len(url)
        parts.append(escape(text[last:start]))
        parts.append(
            Markup(
                '<a href="{0}" target="_blank" rel="noopener noreferrer nofollow">{0}</a>'
            ).format(url)
        )
        last = end
    parts.append(escape(text[last:]))
    return Markup("").join(parts)
