"""Feed formats in, one normalized model out.

::

    bytes ──┬─ JSON ──────────────────────────────── jsonfeed.parse ──┐
            └─ XML ── encoding.decode_xml ── xml.parse_xml ──┬ rss   ├─▶ ParsedFeed
                                                             ├ rdf   │
                                                             └ atom ─┘

:func:`parse_feed` is the only entry point and the single choke point for
errors: it raises :class:`~lenta.exceptions.NotAFeedError` for anything that
is not a feed (an HTML page, an unrelated XML or JSON document) and
:class:`~lenta.exceptions.ParseError` for a feed too broken to read; any
other exception from below is wrapped as ParseError here, so callers never
see lxml's or json's exception types.

The format is decided by the bytes, not the ``Content-Type`` header:
servers label feeds ``text/html``, ``text/plain`` and
``application/octet-stream`` all the time. The header only improves the
error message.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from lxml import etree

from lenta._marks import N_
from lenta.exceptions import NotAFeedError
from lenta.exceptions import ParseError
from lenta.parse import atom
from lenta.parse import jsonfeed
from lenta.parse import rdf
from lenta.parse import rss
from lenta.parse.encoding import decode_xml
from lenta.parse.encoding import sniff_bom
from lenta.parse.model import ParsedFeed
from lenta.parse.xml import parse_xml

__all__ = ["detect_format", "parse_feed"]

_SNIFF: Final = 64 * 1024

# Root element (Clark name, or bare local name) → format family.
_ROOTS: Final = {
    "rss": "rss",
    "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF": "rdf",
    "{http://www.w3.org/2005/Atom}feed": "atom",
    "{http://purl.org/atom/ns#}feed": "atom",
    "feed": "atom",
    # Userland's short-lived RSS 2.0 namespace.
    "{http://backend.userland.com/rss2}rss": "rss",
    # RSS 0.9x documents that start at <channel>: read as RSS, which then
    # treats the root as the channel.
    "channel": "rss",
}


def parse_feed(
    body: bytes,
    *,
    url: str,
    content_type: str | None = None,
    charset: str | None = None,
    max_items: int | None = None,
) -> ParsedFeed:
    """Parse a feed document of any supported format.

    Args:
        body: the document as fetched.
        url: the document's URL; relative links resolve against it.
        content_type: the HTTP ``Content-Type`` mime type, if known (a hint
            for error messages; the bytes decide the format).
        charset: the HTTP ``charset`` parameter, if any (used when the
            document does not declare its own encoding).
        max_items: read at most this many items, the first ones (a flood
            of tiny items would otherwise cost hundreds of megabytes as a
            tree); ``ParsedFeed.skipped_items`` says how many were not read.

    Raises:
        NotAFeedError: the document is not a feed (for example an HTML page).
        ParseError: the document is a feed too broken to read.
    """
    try:
        return _parse(body, url, content_type, charset, max_items)
    except ParseError:
        raise
    except Exception as exc:  # the choke point: no library exception escapes
        raise ParseError(
            "The feed could not be read ({error_type}: {error}).",
            brief=N_("The feed could not be read."),
            error_type=type(exc).__name__,
            error=str(exc)[:200],
        ) from exc


def _parse(body: bytes, url: str, content_type: str | None, charset: str | None, max_items: int | None) -> ParsedFeed:
    kind = _sniff(body)
    if kind is None:
        raise _not_a_feed(content_type)
    if kind == "json":
        return jsonfeed.parse(body, url=url, charset=charset, max_items=max_items)
    root, skipped = parse_xml(decode_xml(body, charset), max_items=max_items)
    match _ROOTS.get(_root_name(root)):
        case "rss":
            feed = rss.parse(root, url=url)
        case "rdf":
            feed = rdf.parse(root, url=url)
        case "atom":
            feed = atom.parse(root, url=url)
        case _:
            raise _not_a_feed(content_type, root=_root_name(root))
    return dataclasses.replace(feed, skipped_items=skipped) if skipped else feed


def detect_format(body: bytes) -> str | None:
    """The feed family of ``body`` — ``"rss"``, ``"rdf"``, ``"atom"`` or
    ``"json"`` (a JSON document, feed or not) — or None when it is not a
    feed (an HTML page, other XML, plain text). Looks at the start of the
    document only; :func:`parse_feed` does not need it called first."""
    kind = _sniff(body)
    if kind != "xml":
        return kind
    head = decode_xml(body[:_SNIFF])
    pull = etree.XMLPullParser(
        events=("start",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        recover=True,
        huge_tree=False,
    )
    try:
        pull.feed(head)
        for _, element in pull.read_events():
            assert isinstance(element, etree._Element)  # "start" events carry elements
            return _ROOTS.get(_root_name(element))
    except etree.XMLSyntaxError:
        return None
    return None


def _sniff(body: bytes) -> str | None:
    """ "json", "xml" or None (not a feed), from the first bytes."""
    bom = sniff_bom(body)
    start = body[bom[1] : bom[1] + 512] if bom else body[:512]
    if bom and bom[0] != "utf-8":
        start = start.decode(bom[0], errors="replace").encode("utf-8")
    elif not bom and start[:4].count(0) >= 1:
        return "xml"  # UTF-16/32 without a BOM; only XML does that
    start = start.lstrip(b" \t\r\n")
    if start[:1] in (b"{", b"["):
        return "json"
    if start[:1] == b"<":
        lowered = start[:64].lower()
        if lowered.startswith((b"<!doctype html", b"<html")):
            return None
        return "xml"
    if b"<?xml" in start:
        return "xml"  # junk before the declaration; parse_xml skips it
    return None


def _root_name(root: etree._Element) -> str:
    tag = root.tag
    return tag if isinstance(tag, str) else ""


def _not_a_feed(content_type: str | None, root: str | None = None) -> NotAFeedError:
    if root and root.rpartition("}")[2].lower() == "html":
        return NotAFeedError("The document is an HTML page, not a feed.")
    if root:
        return NotAFeedError("The document is XML but not a feed (its root element is {root}).", root=root)
    if content_type and "html" in content_type.lower():
        return NotAFeedError("The document is an HTML page, not a feed.")
    return NotAFeedError("The document is not a feed.")
