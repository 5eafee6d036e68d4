"""Atom 1.0 (RFC 4287) and Atom 0.3.

Atom 0.3 differs in names (``tagline``, ``issued``, ``modified``) and in
its content model: ``type`` is a MIME type and ``mode`` says whether the
content is escaped, inline XML or base64. Both map onto the same three
kinds Atom 1.0 calls ``text``, ``html`` and ``xhtml``.

``xml:base`` may appear on the feed, an entry, or the content itself; the
innermost one in effect is the item's ``base_url``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

from lxml import etree

from lenta.parse.dates import parse_date
from lenta.parse.model import Enclosure
from lenta.parse.model import ParsedFeed
from lenta.parse.model import ParsedItem
from lenta.parse.model import enclosure_length
from lenta.parse.rss import MEDIA_NAMESPACES
from lenta.parse.rss import NS_DC
from lenta.parse.rss import read_media
from lenta.parse.xml import XHTML_NS
from lenta.parse.xml import XML_LANG
from lenta.parse.xml import clean_text
from lenta.parse.xml import element_base
from lenta.parse.xml import inner_html
from lenta.parse.xml import itertext
from lenta.parse.xml import markup_of
from lenta.parse.xml import one_line
from lenta.parse.xml import plain_text
from lenta.parse.xml import resolve_url
from lenta.parse.xml import text_of
from lenta.parse.xml import text_to_html
from lenta.parse.xml import to_int

NS_ATOM10: Final = "http://www.w3.org/2005/Atom"
NS_ATOM03: Final = "http://purl.org/atom/ns#"

_FEED_NAMES: Final = {
    "title": "title",
    "subtitle": "subtitle",
    "tagline": "subtitle",  # 0.3
    "link": "link",
    "updated": "updated",
    "modified": "updated",  # 0.3
    "logo": "logo",
    "icon": "icon",
    "author": "author",
    "entry": "entry",
}
_ENTRY_NAMES: Final = {
    "id": "id",
    "title": "title",
    "link": "link",
    "published": "published",
    "issued": "published",  # 0.3
    "created": "created",  # 0.3
    "updated": "updated",
    "modified": "updated",  # 0.3
    "author": "author",
    "content": "content",
    "summary": "summary",
    "category": "category",
    "source": "source",
}
_EXTENSION_ENTRY_TAGS: Final = {
    f"{{{NS_DC}}}creator": "dc_creator",
    f"{{{NS_DC}}}date": "created",
    f"{{{NS_DC}}}subject": "dc_subject",
    **{f"{{{ns}}}group": "media" for ns in MEDIA_NAMESPACES},
    **{f"{{{ns}}}content": "media" for ns in MEDIA_NAMESPACES},
    **{f"{{{ns}}}thumbnail": "media" for ns in MEDIA_NAMESPACES},
}


def _table(ns: str | None, names: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    prefix = "" if ns is None else f"{{{ns}}}"
    table = {prefix + name: key for name, key in names.items()}
    table.update(extra or {})
    return table


_TABLES: Final = {
    ns: (_table(ns, _FEED_NAMES), _table(ns, _ENTRY_NAMES, _EXTENSION_ENTRY_TAGS))
    # None: an Atom document that forgot its namespace.
    for ns in (NS_ATOM10, NS_ATOM03, None)
}


def parse(root: etree._Element, *, url: str) -> ParsedFeed:
    """Adapt an Atom ``<feed>`` to a ParsedFeed."""
    ns = etree.QName(root).namespace
    is_03 = ns == NS_ATOM03 or (root.get("version") or "").strip() == "0.3"
    feed_tags, entry_tags = _TABLES.get(ns) or (_table(ns, _FEED_NAMES), _table(ns, _ENTRY_NAMES))
    base, explicit_base = element_base(root, url)

    title = subtitle = updated = logo = icon = None
    link = hub_url = self_url = None
    authors: str | None = None
    entries: list[etree._Element] = []
    for child in root:
        key = feed_tags.get(child.tag)
        if key is None:
            continue
        if key == "entry":
            entries.append(child)
        elif key == "title":
            title = title or _title(child, is_03)
        elif key == "subtitle":
            subtitle = subtitle or _body(child, is_03)
        elif key == "link":
            rel, href, _, _ = _link(child, base)
            if rel == "alternate":
                link = _better_alternate(link, href, child)
            elif rel == "self":
                self_url = self_url or href
            elif rel == "hub":
                hub_url = hub_url or href
        elif key == "updated":
            updated = updated or parse_date(text_of(child))
        elif key == "logo":
            logo = logo or resolve_url(base, text_of(child))
        elif key == "icon":
            icon = icon or resolve_url(base, text_of(child))
        elif key == "author":
            authors = authors or _person(child)

    context = _Context(entry_tags, base, explicit_base, url, authors, is_03)
    return ParsedFeed(
        format="atom0.3" if is_03 else "atom1.0",
        title=title,
        link=link[0] if link else None,
        description=subtitle,
        language=(root.get(XML_LANG) or "").strip() or None,
        image_url=logo or icon,
        updated=updated,
        hub_url=hub_url,
        self_url=self_url,
        items=tuple(_entry(el, context) for el in entries),
    )


class _Context:
    """What every entry needs from its feed."""

    __slots__ = ("tags", "base", "explicit_base", "url", "authors", "is_03")

    def __init__(
        self,
        tags: dict[str, str],
        base: str | None,
        explicit_base: bool,
        url: str,
        authors: str | None,
        is_03: bool,
    ) -> None:
        self.tags = tags
        self.base = base
        self.explicit_base = explicit_base
        self.url = url
        self.authors = authors
        self.is_03 = is_03


def _entry(el: etree._Element, feed: _Context) -> ParsedItem:
    base, explicit = element_base(el, feed.base)
    explicit = explicit or feed.explicit_base
    is_03 = feed.is_03
    guid = title = author = dc_creator = source_author = None
    published = created = updated = None
    link: tuple[str, int] | None = None
    content = summary = media_description = None
    content_base = None
    enclosures: list[Enclosure] = []
    media: list[Enclosure] = []
    categories: list[str] = []

    for child in el:
        key = feed.tags.get(child.tag)
        if key is None:
            continue
        if key == "id":
            guid = guid or text_of(child)
        elif key == "title":
            title = title or _title(child, is_03)
        elif key == "link":
            rel, href, mime_type, length = _link(child, base)
            if rel == "alternate":
                link = _better_alternate(link, href, child)
            elif rel == "enclosure" and href:
                enclosures.append(Enclosure(url=href, mime_type=mime_type, length=enclosure_length(to_int(length))))
        elif key == "content":
            if content is None:
                content = _body(child, is_03)
                content_base, own = element_base(child, base)
                explicit = explicit or own
        elif key == "summary":
            summary = summary or _body(child, is_03)
        elif key == "published":
            published = published or parse_date(text_of(child))
        elif key == "created":
            created = created or parse_date(text_of(child))
        elif key == "updated":
            updated = updated or parse_date(text_of(child))
        elif key == "author":
            author = author or _person(child)
        elif key == "category":
            category = (child.get("label") or child.get("term") or "").strip()
            if category:
                categories.append(category)
        elif key == "dc_creator":
            dc_creator = dc_creator or text_of(child)
        elif key == "dc_subject":
            subject = text_of(child)
            if subject:
                categories.append(subject)
        elif key == "media":
            media_description = read_media(child, base, media) or media_description
        elif key == "source":
            source_author = source_author or _source_author(child)

    href = link[0] if link else None
    if content is None:
        # One body only: it belongs in `content` (see ParsedItem).
        content, summary = summary or text_to_html(media_description), None
    elif summary == content:
        summary = None
    return ParsedItem(
        guid=guid,
        link=href,
        title=title,
        # RFC 4287 4.2.1: an entry without an author inherits the source's,
        # then the feed's.
        author=one_line(author or dc_creator or source_author or feed.authors),
        published=published or created,
        updated=updated,
        content=content,
        summary=summary,
        enclosures=tuple(enclosures) if enclosures else tuple(dict.fromkeys(media)),
        categories=tuple(dict.fromkeys(categories)),
        base_url=(content_base or base) if explicit else (href or feed.url),
    )


def _kind(el: etree._Element, is_03: bool) -> str:
    """Which of text/html/xhtml (or base64, 0.3 only) ``el`` holds."""
    mime = (el.get("type") or "").strip().lower()
    if is_03:
        mode = (el.get("mode") or "xml").strip().lower()
        if mode == "base64":
            return "base64"
        if mode == "escaped":
            return "html" if mime != "text/plain" else "text"
        if mime in ("text/html", "html"):
            # inline XML holding HTML: a div of markup, like xhtml
            return "xhtml" if len(el) else "html"
        if mime in ("", "text/plain", "text"):
            return "xhtml" if len(el) else "text"
        return "xhtml" if mime.endswith("xml") or mime == "xhtml" else "text"
    if mime in ("", "text", "text/plain"):
        return "text"
    if mime in ("html", "text/html"):
        return "html"
    if mime in ("xhtml", "application/xhtml+xml") or mime.endswith("+xml") or mime.endswith("/xml"):
        return "xhtml"
    return "text" if mime.startswith("text/") else "other"


def _title(el: etree._Element, is_03: bool) -> str | None:
    kind = _kind(el, is_03)
    if kind == "xhtml":
        return plain_text("".join(itertext(el)), strip_tags=False)
    if kind == "base64":
        return plain_text(_base64_text(el), strip_tags=True)
    return plain_text(text_of(el) if len(el) else el.text, strip_tags=kind != "text")


def _body(el: etree._Element, is_03: bool) -> str | None:
    """A text construct as HTML, for ``content``/``summary``/``subtitle``."""
    kind = _kind(el, is_03)
    if kind == "html":
        return markup_of(el)
    if kind == "xhtml":
        return inner_html(_xhtml_div(el))
    if kind == "text":
        return text_to_html(el.text if len(el) == 0 else "".join(itertext(el)))
    if kind == "base64":
        return _base64_text(el)
    return None  # an image or other media type: nothing to show as text


def _xhtml_div(el: etree._Element) -> etree._Element:
    """The ``xhtml:div`` wrapper RFC 4287 4.1.3.3 requires around xhtml
    content; content written without it is used whole."""
    if len(el) == 1 and not (el.text or "").strip():
        child = el[0]
        if child.tag in (f"{{{XHTML_NS}}}div", "div"):
            return child
    return el


def _base64_text(el: etree._Element) -> str | None:
    try:
        return clean_text(base64.b64decode(el.text or "").decode("utf-8", errors="replace")) or None
    except (binascii.Error, ValueError):
        return None


def _link(el: etree._Element, base: str | None) -> tuple[str, str | None, str | None, str | None]:
    """(rel, absolute href, type, length) of an ``atom:link``."""
    rel = (el.get("rel") or "alternate").strip()
    link_base, _ = element_base(el, base)
    href = resolve_url(link_base, el.get("href"))
    mime_type = (el.get("type") or "").strip() or None
    return rel, href, mime_type, el.get("length")


def _better_alternate(current: tuple[str, int] | None, href: str | None, el: etree._Element) -> tuple[str, int] | None:
    """Keep the best alternate link seen so far: an HTML page beats another
    media type; among equals the first wins."""
    if not href:
        return current
    mime = (el.get("type") or "text/html").strip().lower()
    rank = 0 if mime in ("text/html", "application/xhtml+xml") else 1
    if current is None or rank < current[1]:
        return href, rank
    return current


def _person(el: etree._Element) -> str | None:
    name = email = None
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        local = tag.rpartition("}")[2]
        if local == "name":
            name = name or text_of(child)
        elif local == "email":
            email = email or text_of(child)
    if name is None and email is None and len(el) == 0:
        # <author>Jane</author>, against the spec but common
        return text_of(el)
    return plain_text(name or email, strip_tags=False)


def _source_author(el: etree._Element) -> str | None:
    for child in el:
        tag = child.tag
        if isinstance(tag, str) and tag.rpartition("}")[2] == "author":
            return _person(child)
    return None
