"""Feed autodiscovery: which feeds does this HTML page point to?

When someone subscribes to a site's home page instead of its feed, the page
usually names its feeds in the head::

    <link rel="alternate" type="application/rss+xml" title="Posts" href="/feed/">

:func:`discover_feeds` returns those in document order.  Only when a page
has no such ``<link>`` does it fall back to ``<a href>`` links that look
like feeds (``/feed``, ``.rss``, ``.atom``, ``.xml`` ...), which are guesses.

:func:`looks_like_html` tells the fetch/parse path whether a response is a
page worth running discovery on rather than a feed served with a wrong
Content-Type.

Pure functions over bytes: no network, no DTDs, no entities from outside.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from urllib.parse import urljoin
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

__all__ = [
    "FEED_MIME_TYPES",
    "DiscoveredFeed",
    "discover_feeds",
    "looks_like_html",
]


@dataclass(frozen=True, slots=True)
class DiscoveredFeed:
    """A feed a page links to.  ``mime_type`` is what the page claimed
    (lower-cased, without parameters), or for guessed ``<a>`` links what the
    extension suggests; ``None`` when nothing says."""

    url: str
    title: str | None
    mime_type: str | None


# The types a <link rel="alternate"> may carry for a feed.  The x- and x.
# spellings and text/xml are older conventions still found in the wild.
FEED_MIME_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/x-rss+xml",
        "application/rss",
        "application/atom+xml",
        "application/x.atom+xml",
        "application/x-atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "text/xml",
        "application/xml",
    }
)

# rel="feed" is HTML's own keyword for a feed link; "alternate" is the usual.
_FEED_RELS = frozenset({"alternate", "feed"})

# WordPress puts <link rel="alternate" type="application/json"> on every
# page, pointing at its REST API (/wp-json/wp/v2/posts/1), not at a feed.
_NOT_A_FEED = re.compile(r"/wp-json(?:/|$)|[?&]rest_route=", re.IGNORECASE)

# <a href> paths that look like feeds, with the type their ending suggests.
_GUESSED_ENDINGS: tuple[tuple[str, str | None], ...] = (
    (".rss", "application/rss+xml"),
    (".atom", "application/atom+xml"),
    (".rdf", "application/rdf+xml"),
    (".xml", None),
    ("/feed", None),
    ("/rss", "application/rss+xml"),
    ("/atom", "application/atom+xml"),
    ("/feed.json", "application/feed+json"),
)
_NOT_FEED_XML = re.compile(r"(?:^|/)sitemap[^/]*\.xml$", re.IGNORECASE)

# Parsing never touches the network; comments and PIs are of no use here.
_PARSER = lxml.html.HTMLParser(
    no_network=True,
    remove_comments=True,
    remove_pis=True,
)
_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)


def discover_feeds(html: bytes, base_url: str, charset: str | None = None) -> list[DiscoveredFeed]:
    """The feeds an HTML page links to, best first, without duplicates.

    Args:
        html: the page as fetched.
        base_url: the page's URL (after redirects); relative links resolve
            against it, or against the page's ``<base href>`` if it has one.
        charset: the charset from the HTTP Content-Type, if any; it wins
            over the page's own ``<meta charset>``.

    Returns:
        ``<link rel="alternate">`` feeds in document order; if there are
        none, ``<a href>`` links whose path looks like a feed.  Only http(s)
        URLs (``feed:`` URLs are rewritten to http(s)).  Empty when the page
        names no feed or cannot be parsed.
    """
    root = _parse_html(html, charset)
    if root is None:
        return []
    base = _document_base(root, base_url)
    feeds = _from_link_elements(root, base)
    if not feeds:
        feeds = _from_anchors(root, base)
    return _unique(feeds)


def _parse_html(html: bytes, charset: str | None) -> lxml.html.HtmlElement | None:
    # Decoded in Python rather than by libxml2, whose iconv names for
    # encodings are not Python's ("euc_kr"); the XML declaration must go
    # because lxml refuses str input that declares an encoding.
    text = html.decode(_choose_encoding(html, charset), errors="replace")
    text = _XML_DECLARATION.sub("", text, count=1)
    try:
        return lxml.html.document_fromstring(text, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError):  # empty or whitespace-only
        return None


def _choose_encoding(html: bytes, charset: str | None) -> str:
    """BOM, else the charset from HTTP, else <meta charset>, else UTF-8 if
    the bytes decode as UTF-8, else windows-1252 (what browsers assume)."""
    bom_encoding = _bom_encoding(html)
    if bom_encoding:
        return bom_encoding
    candidates = [charset]
    meta = _META_CHARSET.search(html[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii"))
    for candidate in candidates:
        known = _known_codec(candidate)
        if known:
            return known
    try:
        html.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def _bom_encoding(data: bytes) -> str | None:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _known_codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def _document_base(root: lxml.html.HtmlElement, base_url: str) -> str:
    for base in root.iter("base"):
        href = (base.get("href") or "").strip()
        if href:
            resolved = _absolute_http_url(base_url, href)
            # Only the first <base href> counts, as in browsers.
            return resolved or base_url
    return base_url


def _from_link_elements(root: lxml.html.HtmlElement, base: str) -> list[DiscoveredFeed]:
    feeds = []
    for link in root.iter("link"):
        rels = set((link.get("rel") or "").lower().split())
        if not rels & _FEED_RELS:
            continue
        mime_type = (link.get("type") or "").split(";")[0].strip().lower()
        if mime_type not in FEED_MIME_TYPES:
            continue
        url = _absolute_http_url(base, link.get("href") or "")
        if url is None or _NOT_A_FEED.search(url):
            continue
        feeds.append(DiscoveredFeed(url, _clean_title(link.get("title")), mime_type))
    return feeds


def _from_anchors(root: lxml.html.HtmlElement, base: str) -> list[DiscoveredFeed]:
    feeds = []
    for anchor in root.iter("a"):
        url = _absolute_http_url(base, anchor.get("href") or "")
        if url is None:
            continue
        guessed, mime_type = _guess_from_path(urlsplit(url).path)
        if not guessed:
            continue
        title = _clean_title(anchor.get("title")) or _clean_title(anchor.text_content())
        feeds.append(DiscoveredFeed(url, title, mime_type))
    return feeds


def _guess_from_path(path: str) -> tuple[bool, str | None]:
    path = path.rstrip("/").lower()
    if _NOT_FEED_XML.search(path):
        return False, None
    for ending, mime_type in _GUESSED_ENDINGS:
        if path.endswith(ending):
            return True, mime_type
    return False, None


def _absolute_http_url(base: str, href: str) -> str | None:
    href = href.strip()
    if not href:
        return None
    # feed:http://x, feed://x and feed:x are an old convention for "open
    # this in a feed reader"; what follows is the real URL.
    if href[:5].lower() == "feed:":
        href = href[5:]
        if href.startswith("//"):
            href = "http:" + href
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 literal
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return parts._replace(fragment="").geturl()


def _clean_title(title: str | None) -> str | None:
    if title is None:
        return None
    collapsed = " ".join(title.split())
    return collapsed or None


def _unique(feeds: list[DiscoveredFeed]) -> list[DiscoveredFeed]:
    seen: set[str] = set()
    unique = []
    for feed in feeds:
        if feed.url not in seen:
            seen.add(feed.url)
            unique.append(feed)
    return unique


_HTML_MIME_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Leading declarations, comments, PIs and doctypes before the first element.
_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>)", re.IGNORECASE | re.DOTALL)
_FIRST_ELEMENT = re.compile(r"\s*<([a-z][a-z0-9:._-]*)", re.IGNORECASE)
_FEED_ROOTS = frozenset({"rss", "feed", "rdf:rdf", "rdf", "channel", "opml", "atom:feed"})
# Elements an HTML page (even one without <html>) tends to start with.
_HTML_STARTS = frozenset({"html", "head", "body", "meta", "title", "link", "script", "style", "div", "p", "a", "table", "br"})


def looks_like_html(body: bytes, content_type: str | None) -> bool:
    """Whether a response is an HTML page rather than a feed.

    The body decides when it can: servers often send feeds as
    ``text/html`` and pages as ``text/xml``.  A document whose first element
    is ``<html>`` (XHTML included) is HTML; one whose first element is
    ``<rss>``, ``<feed>``, ``<rdf:RDF>`` or ``<opml>``, or that starts like
    JSON, is not.  Otherwise the Content-Type decides, and without one, a
    first element typical of pages (``<div>``, ``<meta>``...).
    """
    mime_type = (content_type or "").split(";")[0].strip().lower()
    text = _sniffable_text(body)
    if text.lstrip()[:1] in ("{", "["):
        return False
    first = _first_element(text)
    if first == "html" or text.lstrip()[:14].lower() == "<!doctype html":
        return True
    if first in _FEED_ROOTS:
        return False
    if mime_type:
        return mime_type in _HTML_MIME_TYPES
    return first in _HTML_STARTS


def _sniffable_text(body: bytes) -> str:
    """The first 2 KB as text, enough to find the first element: latin-1 for
    ASCII-compatible encodings, UTF-16 when a BOM or NUL bytes say so."""
    head = body[:2048]
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    if head[:1] == b"\x00" and head[1:2] != b"\x00":
        return head.decode("utf-16-be", errors="replace")
    if head[1:2] == b"\x00" and head[:1] != b"\x00":
        return head.decode("utf-16-le", errors="replace")
    return head.decode("latin-1")


def _first_element(text: str) -> str | None:
    pos = 0
    while prolog := _PROLOG.match(text, pos):
        pos = prolog.end()
    element = _FIRST_ELEMENT.match(text, pos)
    return element.group(1).lower() if element else None
