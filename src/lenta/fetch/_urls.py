"""URLs as they go on the wire: checked, and written the way servers read them.

:func:`request_url` is the one door every URL passes before a request
(the first one and each redirect hop): :func:`lenta.fetch.guard.check_url`
judges it (http/https, a well-formed host), and what libcurl gets back is
the same URL with the host IDNA-encoded and lower-cased, every character
that may not appear raw in a path or query percent-encoded as UTF-8
(``/a b/ü`` → ``/a%20b/%C3%BC``), and no fragment (it is never sent).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote
from urllib.parse import urljoin
from urllib.parse import urlsplit

from lenta.exceptions import InvalidFeedURLError
from lenta.fetch.guard import Target
from lenta.fetch.guard import check_url

# RFC 3986 pchar plus "/" (and "?" in queries); "%" keeps existing escapes.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
# Anything quote() would change: most URLs have none, and skip it.
_UNSAFE = re.compile(r"[^A-Za-z0-9/%:@!$&'()*+,;=\-._~?]")


def _quoted(text: str, safe: str) -> str:
    return quote(text, safe=safe) if _UNSAFE.search(text) else text


@functools.lru_cache(maxsize=16384)  # a refresh asks for the same URLs every round; errors are not cached
def request_url(url: str) -> tuple[str, Target]:
    """``url`` checked and made ready to send: (the URL to request, where it points).

    Raises:
        AddressNotAllowedError: a scheme other than http or https.
        InvalidFeedURLError: a malformed URL.
    """
    target = check_url(url)
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    host = f"[{target.host}]" if ":" in target.host else target.host
    netloc = f"{userinfo}{at}{host}" + (f":{parts.port}" if parts.port is not None else "")
    path = _quoted(parts.path, _PATH_SAFE) or "/"
    query = f"?{_quoted(parts.query, _QUERY_SAFE)}" if parts.query else ""
    return f"{target.scheme}://{netloc}{path}{query}", target


def join_location(base: str, location: str) -> str:
    """Where a redirect's ``Location`` leads from ``base`` (RFC 3986 §5), without its fragment.

    Raises:
        InvalidFeedURLError: the two cannot be joined into a URL.
    """
    try:
        joined = urljoin(base, location.strip())
    except ValueError as exc:  # e.g. an unclosed IPv6 literal
        raise InvalidFeedURLError("{url} is not a valid URL ({reason})", url=location, reason=str(exc)) from None
    return joined.partition("#")[0]
