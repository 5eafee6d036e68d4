"""The one URL allowlist for everything lenta publishes.

Feeds are written by strangers: an item's link, an enclosure, a feed's site
URL can be ``javascript:``, ``data:`` or ``vbscript:``, disguised as
``" JaVa\\tScRiPt:…"`` (browsers drop tabs and newlines inside a URL and
C0 controls and spaces around it). Every URL that lenta puts in a page, an
RSS feed or an OPML file goes through :func:`safe_url` first; a new output
must use it too.
"""

from __future__ import annotations

import re

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

# What the WHATWG URL parser strips before it reads a scheme: C0 controls and
# space at either end, ASCII tab and newlines anywhere.
_EDGES = "".join(chr(code) for code in range(0x21))
_INSIDE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")


def safe_url(value: str | None) -> str:
    """``value`` cleaned as a browser reads it, if it is an absolute
    http(s) or mailto URL; else "" (relative URLs included: lenta's outputs
    carry only absolute URLs)."""
    if not value:
        return ""
    url = _INSIDE.sub("", value.strip(_EDGES))
    scheme = _SCHEME.match(url)
    if scheme is None or scheme.group(1).lower() not in SAFE_SCHEMES:
        return ""
    return url
