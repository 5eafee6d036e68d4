"""Feed icons: what to fetch, what to keep, when to look again. Pure
functions of their inputs (the clock passed in); the fetching is
:mod:`lenta.update.icons`.

A feed's icon is, in this order of preference (the first that gives an
image wins):

1. the feed's own image (RSS ``<image>``, Atom ``<logo>``/``<icon>``, JSON
   Feed ``icon``/``favicon``: ``feeds.image_url``);
2. what the site's home page names in ``<link rel="icon">`` (or ``shortcut
   icon``, then ``apple-touch-icon``);
3. ``/favicon.ico`` at the root of the site (or of the feed's host).

An icon is kept only if it is at most :data:`MAX_ICON_BYTES` and its bytes
are one of the raster formats :func:`sniff_image` knows, whatever the
server called it: lenta serves icons from its own origin, and an SVG (a
document that can run script) or an HTML error page served with a 200 must
not be passed on as an image. The type lenta serves is the one the bytes
show.

Icons are looked at again :data:`REFRESH_AFTER` after they were fetched,
and a feed without one :data:`RETRY_AFTER` after the last try, only for
feeds whose last refresh succeeded, at most :data:`ICONS_PER_ROUND` a round
(the refresher's step after each round, bounded in time too), so icons
never hold up feeds. The query that picks them is
:meth:`lenta.storage._icons.IconStore.due`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from urllib.parse import urljoin
from urllib.parse import urlsplit

__all__ = [
    "ICONS_PER_ROUND",
    "ICON_DEADLINE",
    "ICON_STEP_SECONDS",
    "ICON_TIMEOUT",
    "MAX_ICON_BYTES",
    "MAX_PAGE_BYTES",
    "REFRESH_AFTER",
    "RETRY_AFTER",
    "FeedIcon",
    "IconTarget",
    "digest",
    "favicon_url",
    "icon_links",
    "is_image_type",
    "home_page",
    "sniff_image",
]

MAX_ICON_BYTES = 100 * 1024
# The home page read for its <link rel="icon">: the links are in its head,
# but a page is read whole or not at all (a bigger one: /favicon.ico is next).
MAX_PAGE_BYTES = 1024 * 1024
REFRESH_AFTER = timedelta(days=7)
RETRY_AFTER = timedelta(days=1)
ICONS_PER_ROUND = 20
# An icon is worth less than a feed: shorter bounds than feeds get, so that
# the step after a round stays short whatever the sites do.
ICON_TIMEOUT = 5.0  # seconds to connect, and between bytes
ICON_DEADLINE = 10.0  # seconds for one request, redirects included
ICON_STEP_SECONDS = 20.0  # the whole step; feeds not done by then are tried again later

# Magic numbers of the raster formats browsers show as icons.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"BM", "image/bmp"),
)
# Types a server may give an icon without saying it is no image (favicon.ico
# is often served as one of these); anything else not image/* is refused.
_UNSURE_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", "application/ico", "application/x-ico"})
_ICON_RELS = ("icon", "apple-touch-icon", "apple-touch-icon-precomposed")


@dataclass(frozen=True, slots=True)
class FeedIcon:
    """A feed's stored icon, as lenta serves it."""

    feed_id: int
    data: bytes
    media_type: str  # what the bytes are (sniff_image)
    digest: str
    fetched_at: datetime
    url: str | None = None  # where it was fetched from


@dataclass(frozen=True, slots=True)
class IconTarget:
    """A feed whose icon is due, with what says where its icon may be."""

    feed_id: int
    feed_url: str
    site_url: str | None
    image_url: str | None


def sniff_image(data: bytes) -> str | None:
    """The media type ``data`` is, if it is a raster image lenta serves
    (PNG, GIF, JPEG, ICO, BMP, WebP); else None (SVG and HTML included)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    return None


def is_image_type(content_type: str | None) -> bool:
    """Whether a response's media type allows it to be an icon (no type, an
    image type, or a vague binary one; never HTML, SVG or text)."""
    if content_type is None:
        return True
    if content_type == "image/svg+xml":
        return False
    return content_type.startswith("image/") or content_type in _UNSURE_TYPES


def digest(data: bytes) -> str:
    """A short tag of an icon's bytes: its ETag, and its URL's version."""
    return hashlib.sha256(data).hexdigest()[:16]


def home_page(target: IconTarget) -> str:
    """The site's home page: the feed's site URL, else the root of the feed's host."""
    if target.site_url and _is_http(target.site_url):
        return target.site_url
    return urljoin(target.feed_url, "/")


def favicon_url(target: IconTarget) -> str:
    """``/favicon.ico`` at the root of the site's host."""
    return urljoin(home_page(target), "/favicon.ico")


def icon_links(html: bytes, base_url: str) -> list[str]:
    """The icons an HTML page names in ``<link rel="icon">`` (and ``shortcut
    icon``), then ``apple-touch-icon``: absolute http(s) URLs, in that
    order, SVG ones left out; relative links resolve against ``<base
    href>`` or ``base_url``."""
    # lxml loads when a page is read, not with every lenta command.
    import lxml.etree
    import lxml.html

    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return []
    if root is None:
        return []
    base = base_url
    for element in root.iter("base"):
        href = element.get("href")
        if href:
            base = urljoin(base_url, href.strip())
            break
    found: dict[str, list[str]] = {rel: [] for rel in _ICON_RELS}
    for element in root.iter("link"):
        rels = (element.get("rel") or "").lower().split()
        rel = next((name for name in _ICON_RELS if name in rels), None)
        href = (element.get("href") or "").strip()
        if rel is None or not href or (element.get("type") or "").lower() == "image/svg+xml" or href.lower().endswith(".svg"):
            continue
        url = urljoin(base, href)
        if _is_http(url):
            found[rel].append(url)
    return _unique(url for rel in _ICON_RELS for url in found[rel])


def _is_http(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)


def _unique(urls: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(urls))
