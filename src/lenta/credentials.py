"""Credentials in feed URLs: kept apart from the URL, never shown.

``lenta add https://user:secret@host/feed`` is how people subscribe to
feeds behind HTTP Basic auth. The ``user:secret`` part (the URL's
*userinfo*) is stored in a column of its own and only joined back to the
URL when the feed is fetched; every URL lenta stores, shows, exports or
logs is the one without it. Where an admin needs to see that a feed has
credentials, it is written ``https://***@host/feed``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

MASK = "***"

# "scheme://userinfo@" anywhere in a text (an error message quoting a URL).
_USERINFO_IN_TEXT = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@]*@")


def split_userinfo(url: str) -> tuple[str, str | None]:
    """``https://u:p@host/x`` → (``https://host/x``, ``u:p``); a URL without
    userinfo comes back as it is, with None."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url, None
    return urlunsplit(parts._replace(netloc=hostport)), userinfo or None


def with_userinfo(url: str, userinfo: str | None) -> str:
    """The URL to fetch: ``url`` with ``userinfo`` put back (if any)."""
    if not userinfo:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc.rpartition('@')[2]}"))


def masked(url: str, userinfo: str | None) -> str:
    """How an admin sees a feed URL: ``https://***@host/feed`` when it has
    credentials, else the URL itself."""
    return with_userinfo(url, MASK) if userinfo else url


def redact(text: str) -> str:
    """``text`` with the userinfo of every URL in it replaced by ``***``."""
    if "@" not in text:
        return text
    return _USERINFO_IN_TEXT.sub(lambda match: f"{match.group(1)}{MASK}@", text)


def same_origin(a: str, b: str) -> bool:
    """Whether credentials given for ``a`` may go to ``b`` (scheme, host and port alike)."""
    first, second = urlsplit(a), urlsplit(b)
    try:
        return (first.scheme.lower(), first.hostname, first.port) == (second.scheme.lower(), second.hostname, second.port)
    except ValueError:
        return False
