"""OPML import and export: subscription lists in and out.

:func:`parse_opml` reads every ``<outline>`` with an ``xmlUrl`` (any case
of the name) as a feed; the folders around it (outlines without one) and
its own ``category`` attribute give its categories.  A feed listed in
several folders is one :class:`OPMLFeed` with several categories, which is
also how :func:`render_opml` writes it, so the two round-trip.

Real OPML files are messy, and the messiest are exports from web apps:
unescaped ``&``, HTML entities, raw HTML with quotes inside attribute
values, no version, no encoding declaration or a non-UTF-8 one.  A
well-formed document is read as it is; any other is first repaired
(:func:`_repair`) and then parsed in recover mode, so that no feed URL is
lost to a broken description.

Parsing is safe on untrusted input: no DTD loading, no entity expansion, no
network.
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from email.utils import format_datetime
from html.entities import name2codepoint
from xml.sax.saxutils import quoteattr

from lxml import etree

from lenta.exceptions import OPMLError

__all__ = [
    "CATEGORY_SEPARATOR",
    "OPMLDocument",
    "OPMLFeed",
    "parse_opml",
    "render_opml",
]

CATEGORY_SEPARATOR = " / "


@dataclass(frozen=True, slots=True)
class OPMLFeed:
    """One subscription.  ``categories`` are folder paths (nested folders
    joined with ``" / "``) and ``category`` attribute values, in document
    order, without duplicates."""

    url: str
    title: str | None = None
    site_url: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OPMLDocument:
    """A parsed OPML file: its head title and its feeds in document order."""

    title: str | None
    outlines: tuple[OPMLFeed, ...]


def _strict_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)


def _recovering_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, recover=True)


def parse_opml(data: bytes) -> OPMLDocument:
    """Read the feeds of an OPML document.

    Outlines without ``xmlUrl`` are folders (or, like ``type="include"``
    and ``type="link"`` outlines, not feeds at all); an OPML without any
    feed is valid and gives no outlines.

    Raises:
        OPMLError: the document is empty, unreadable, or not OPML (an RSS
            feed or an HTML page, say); the message says which.
    """
    if not data.strip():
        raise OPMLError("The OPML file is empty.")
    root = _parse(data)
    if root is None:
        raise OPMLError("The file is not an OPML document: it could not be read as XML.")
    root_name = _local_name(root)
    if root_name != "opml":
        raise OPMLError(
            "The file is not an OPML document: its root element is <{element}>, not <opml>.",
            element=root_name or "?",
        )
    title_element = _child(_child(root, "head"), "title")
    title = _clean(title_element.text) if title_element is not None else None
    body = _child(root, "body")
    feeds = _merge(_walk(body if body is not None else root, ()))
    return OPMLDocument(title=title, outlines=tuple(feeds))


def _parse(data: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(data, _strict_parser())
    except etree.XMLSyntaxError:
        pass
    repaired = _repair(_decode(data))
    try:
        return etree.fromstring(repaired.encode("utf-8"), _recovering_parser())
    except etree.XMLSyntaxError:  # nothing recoverable at all
        return None


def _walk(parent: etree._Element, path: tuple[str, ...]) -> Iterator[OPMLFeed]:
    for outline in parent:
        if _local_name(outline) != "outline":
            continue
        # Attribute names in any case: xmlUrl, xmlurl, XMLURL all occur.
        attributes = {str(name).lower(): str(value) for name, value in outline.attrib.items()}
        url = (attributes.get("xmlurl") or "").strip()
        name = _clean(attributes.get("text")) or _clean(attributes.get("title"))
        if not url:
            # A folder.  Nameless folders add no level to the path.
            yield from _walk(outline, path + (name,) if name else path)
            continue
        categories = [CATEGORY_SEPARATOR.join(path)] if path else []
        categories += _category_attribute(attributes.get("category"))
        yield OPMLFeed(
            url=url,
            # A "title" that is only the URL says nothing; render_opml
            # writes it that way for feeds without a title.
            title=name if name != url else None,
            site_url=(attributes.get("htmlurl") or "").strip() or None,
            categories=tuple(categories),
        )
        # Feeds do not contain feeds, but broken files nest them anyway.
        yield from _walk(outline, path)


def _category_attribute(value: str | None) -> list[str]:
    # OPML 2.0: "a string of comma-separated slash-delimited category
    # strings", e.g. "/Tourism/New York,/Philosophy/Baseball".
    if not value:
        return []
    categories = (_clean(part.strip().lstrip("/")) for part in value.split(","))
    return [category for category in categories if category]


def _merge(feeds: Iterable[OPMLFeed]) -> list[OPMLFeed]:
    """One feed per URL, in order of first appearance, with the categories
    of every place it appears in."""
    merged: dict[str, OPMLFeed] = {}
    for feed in feeds:
        seen = merged.get(feed.url)
        if seen is None:
            merged[feed.url] = replace(feed, categories=_unique(feed.categories))
            continue
        merged[feed.url] = OPMLFeed(
            url=seen.url,
            title=seen.title or feed.title,
            site_url=seen.site_url or feed.site_url,
            categories=_unique(seen.categories + feed.categories),
        )
    return list(merged.values())


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _local_name(element: etree._Element) -> str:
    if not isinstance(element.tag, str):  # comment or processing instruction
        return ""
    return etree.QName(element).localname.lower()


def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    if parent is None:
        return None
    for child in parent:
        if _local_name(child) == name:
            return child
    return None


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


# --- repairing broken documents ------------------------------------------------

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_AMPERSAND = re.compile(r"&(#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)?")
# An outline start tag ends at the first ">" that is followed by another
# outline tag or the end of the body: descriptions with raw HTML contain
# ">" too, but never right before "<outline".
_OUTLINE_TAG = re.compile(
    r"<outline\b((?:(?!<outline\b).)*?)(/?)>(?=\s*(?:<(?:/?outline\b|/body\b|/opml\b)|\Z))",
    re.IGNORECASE | re.DOTALL,
)
_WELL_FORMED_ATTRIBUTES = re.compile(r"""(?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*""")
# Inside a broken start tag, values are delimited by the next known OPML
# attribute, not by the next quote: exports put unescaped quotes and whole
# <a href="..."> elements into descriptions.
_OPML_ATTRIBUTE = re.compile(
    r"""\s(text|title|description|xmlurl|htmlurl|type|category|created|language|version|url"""
    r"""|iscomment|isbreakpoint)\s*=\s*(["'])""",
    re.IGNORECASE,
)


def _decode(data: bytes) -> str:
    """The document as text: BOM, else the declared encoding, else UTF-8,
    else windows-1252 (what undeclared non-UTF-8 files usually are)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    declared = _DECLARED_ENCODING.match(data)
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        fallback = "windows-1252" if codecs.lookup(encoding).name == "utf-8" else encoding
        return data.decode(fallback, errors="replace")


def _repair(text: str) -> str:
    """Make a broken OPML document well-formed enough for libxml2's recover
    mode to keep every outline: fix ampersands and HTML entities, and
    rebuild outline start tags whose attribute values hold raw quotes or
    markup.  The result is declared as UTF-8 (the caller encodes it so)."""
    text = _XML_DECLARATION.sub("", text, count=1)
    text = _AMPERSAND.sub(_fix_ampersand, text)
    return '<?xml version="1.0" encoding="utf-8"?>' + _OUTLINE_TAG.sub(_rebuild_outline, text)


def _fix_ampersand(match: re.Match[str]) -> str:
    reference = match.group(1)
    if reference is None:
        return "&amp;"  # a bare "&", as in "News & Politics"
    name = reference[:-1]
    if reference.startswith("#") or name in _XML_ENTITIES:
        return match.group(0)
    if name in name2codepoint:  # an HTML entity such as &nbsp; or &eacute;
        return f"&#{name2codepoint[name]};"
    return "&amp;" + reference


def _rebuild_outline(match: re.Match[str]) -> str:
    inside, self_closing = match.group(1), match.group(2)
    if _WELL_FORMED_ATTRIBUTES.fullmatch(inside):
        return match.group(0)
    anchors = list(_OPML_ATTRIBUTE.finditer(inside))
    attributes = []
    for anchor, following in zip(anchors, anchors[1:] + [None]):
        end = following.start() if following else len(inside)
        value = inside[anchor.end() : end].rstrip()
        if value.endswith(anchor.group(2)):
            value = value[:-1]
        # Entities were fixed above, so unescaping then quoting is exact.
        attributes.append(f" {anchor.group(1)}={quoteattr(_xml_text(html_lib.unescape(value)))}")
    return "<outline" + "".join(attributes) + ("/>" if self_closing else ">")


# --- export ------------------------------------------------------------------

# Characters XML 1.0 cannot carry at all; lxml refuses them, so titles from
# feeds (which may hold anything) are cleaned first.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def render_opml(
    title: str,
    feeds: Iterable[OPMLFeed],
    *,
    date_created: datetime | None = None,
    nested: bool = False,
) -> bytes:
    """An OPML 2.0 document (UTF-8, pretty-printed) listing ``feeds``.

    Each category is a folder ``<outline text="Category">`` holding the
    feeds in it; a feed in several categories appears in each folder, and
    feeds without a category are at the top level, after the folders.
    Folders come in order of first appearance.

    Args:
        title: the ``<head><title>``.
        feeds: the subscriptions to list.
        date_created: written as ``<dateCreated>`` (RFC 822, GMT); naive
            datetimes are taken as UTC.  Left out when ``None``, so the
            same feeds always give the same bytes.
        nested: a category "News / Tech" is a folder "Tech" inside a
            folder "News" (a reader's nested folders), as :func:`parse_opml`
            reads it back; otherwise one folder of that name.
    """
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _xml_text(title)
    if date_created is not None:
        etree.SubElement(head, "dateCreated").text = _rfc822(date_created)
    body = etree.SubElement(root, "body")

    if nested:
        _nested_outlines(body, feeds)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    folders: dict[str, list[OPMLFeed]] = {}
    top_level: list[OPMLFeed] = []
    for feed in feeds:
        for category in _unique(feed.categories) or [None]:
            if category is None:
                top_level.append(feed)
            else:
                folders.setdefault(category, []).append(feed)
    for category, folder_feeds in folders.items():
        folder = etree.SubElement(body, "outline", text=_xml_text(category))
        for feed in folder_feeds:
            _feed_outline(folder, feed)
    for feed in top_level:
        _feed_outline(body, feed)

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _nested_outlines(body: etree._Element, feeds: Iterable[OPMLFeed]) -> None:
    """Folders as nested outlines, each feed in every folder it is in;
    folders before feeds at each level, in order of first appearance."""
    folders: dict[tuple[str, ...], etree._Element] = {}
    placed: list[tuple[tuple[str, ...], OPMLFeed]] = []
    for feed in feeds:
        for category in _unique(feed.categories) or [""]:
            path = tuple(part for part in category.split(CATEGORY_SEPARATOR) if part)
            for depth in range(1, len(path) + 1):
                if path[:depth] not in folders:
                    parent = folders[path[: depth - 1]] if depth > 1 else body
                    folders[path[:depth]] = etree.SubElement(parent, "outline", text=_xml_text(path[depth - 1]))
            placed.append((path, feed))
    for path, feed in placed:
        _feed_outline(folders[path] if path else body, feed)


def _feed_outline(parent: etree._Element, feed: OPMLFeed) -> None:
    outline = etree.SubElement(parent, "outline", type="rss")
    # OPML requires text; a feed without a title shows its URL.
    outline.set("text", _xml_text(feed.title or feed.url))
    if feed.title:
        outline.set("title", _xml_text(feed.title))
    outline.set("xmlUrl", _xml_text(feed.url))
    if feed.site_url:
        outline.set("htmlUrl", _xml_text(feed.site_url))


def _rfc822(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment.astimezone(UTC), usegmt=True)
