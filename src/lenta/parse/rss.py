"""RSS 0.91–0.94 and 2.0, and the RSS extension modules.

The modules (Dublin Core, ``content:encoded``, syndication, Media RSS,
FeedBurner, iTunes, ``atom:link``) are read here for every format that
uses them: :mod:`lenta.parse.rdf` reuses :func:`read_channel` with the
RSS 1.0 namespace, and :mod:`lenta.parse.atom` reuses the Media RSS reader.

Elements are matched by their Clark name (``{namespace}local``) through a
dict per table, so each child costs one lookup — no XPath, no regex.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from lxml import etree

from lenta.parse.dates import parse_date
from lenta.parse.model import MAX_TTL_MINUTES
from lenta.parse.model import MAX_UPDATE_FREQUENCY
from lenta.parse.model import SKIP_DAYS
from lenta.parse.model import UPDATE_PERIODS
from lenta.parse.model import Enclosure
from lenta.parse.model import ParsedFeed
from lenta.parse.model import ParsedItem
from lenta.parse.model import clamp
from lenta.parse.model import enclosure_length
from lenta.parse.xml import element_base
from lenta.parse.xml import markup_of
from lenta.parse.xml import one_line
from lenta.parse.xml import plain_text
from lenta.parse.xml import resolve_url
from lenta.parse.xml import text_of
from lenta.parse.xml import text_to_html
from lenta.parse.xml import to_int

NS_DC: Final = "http://purl.org/dc/elements/1.1/"
NS_DCTERMS: Final = "http://purl.org/dc/terms/"
NS_CONTENT: Final = "http://purl.org/rss/1.0/modules/content/"
NS_SY: Final = "http://purl.org/rss/1.0/modules/syndication/"
NS_ATOM: Final = "http://www.w3.org/2005/Atom"
NS_FEEDBURNER: Final = "http://rssnamespace.org/feedburner/ext/1.0"
NS_ITUNES: Final = "http://www.itunes.com/dtds/podcast-1.0.dtd"
NS_RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
# Media RSS moved from Yahoo to the RSS Advisory Board; both are in use,
# and so is Yahoo's URI without its trailing slash.
MEDIA_NAMESPACES: Final = (
    "http://search.yahoo.com/mrss/",
    "http://search.yahoo.com/mrss",
    "http://www.rssboard.org/media-rss",
)

_DAYS: Final = frozenset(SKIP_DAYS)
_RDF_RESOURCE: Final = f"{{{NS_RDF}}}resource"
_RDF_ABOUT: Final = f"{{{NS_RDF}}}about"


def _tags(ns: str | None, names: dict[str, str]) -> dict[str, str]:
    prefix = "" if ns is None else f"{{{ns}}}"
    return {prefix + name: key for name, key in names.items()}


def _media_tags() -> dict[str, str]:
    tags: dict[str, str] = {}
    for ns in MEDIA_NAMESPACES:
        tags.update(_tags(ns, {"content": "media", "group": "media", "thumbnail": "media", "description": "media"}))
    return tags


# Module elements an item may hold, whatever its own namespace.
_MODULE_ITEM_TAGS: Final = {
    **_tags(NS_DC, {"creator": "creator", "date": "date", "subject": "category", "title": "dc_title"}),
    **_tags(NS_DCTERMS, {"modified": "updated", "created": "date", "issued": "date"}),
    **_tags(NS_CONTENT, {"encoded": "content"}),
    **_tags(NS_ATOM, {"link": "atom_link", "updated": "updated", "published": "date"}),
    **_tags(NS_FEEDBURNER, {"origLink": "orig_link", "origEnclosureLink": "orig_enclosure"}),
    **_tags(NS_ITUNES, {"summary": "itunes_summary", "author": "itunes_author"}),
    **_media_tags(),
}

_MODULE_CHANNEL_TAGS: Final = {
    **_tags(NS_DC, {"date": "updated", "language": "language", "title": "dc_title"}),
    **_tags(NS_ATOM, {"link": "atom_link"}),
    **_tags(NS_SY, {"updatePeriod": "update_period", "updateFrequency": "update_frequency"}),
    **_tags(NS_ITUNES, {"image": "itunes_image", "summary": "itunes_summary"}),
}


def item_tags(ns: str | None) -> dict[str, str]:
    """The item element table for RSS elements in namespace ``ns`` (None
    for RSS 0.9x/2.0, the RSS 1.0 or 0.90 URI for RDF)."""
    tags = _tags(
        ns,
        {
            "title": "title",
            "link": "link",
            "guid": "guid",
            "description": "description",
            "author": "author",
            "pubDate": "date",
            "category": "category",
            "enclosure": "enclosure",
        },
    )
    tags.update(_MODULE_ITEM_TAGS)
    return tags


def channel_tags(ns: str | None) -> dict[str, str]:
    """The channel element table, like :func:`item_tags`."""
    tags = _tags(
        ns,
        {
            "title": "title",
            "link": "link",
            "description": "description",
            "language": "language",
            "image": "image",
            "lastBuildDate": "updated",
            "pubDate": "date",
            "ttl": "ttl",
            "skipHours": "skip_hours",
            "skipDays": "skip_days",
            "item": "item",
        },
    )
    tags.update(_MODULE_CHANNEL_TAGS)
    return tags


def _lower(tags: dict[str, str]) -> dict[str, str]:
    # Sloppy feeds write <pubdate> or <Description>; tried only on a miss.
    return {tag.lower(): key for tag, key in tags.items()}


RSS_ITEM_TAGS: Final = item_tags(None)
RSS_CHANNEL_TAGS: Final = channel_tags(None)
_RSS_ITEM_TAGS_LOWER: Final = _lower(RSS_ITEM_TAGS)
_RSS_CHANNEL_TAGS_LOWER: Final = _lower(RSS_CHANNEL_TAGS)


def parse(root: etree._Element, *, url: str) -> ParsedFeed:
    """Adapt an ``<rss>`` document (any 0.9x or 2.0 version) to a ParsedFeed."""
    version = (root.get("version") or "2.0").strip()
    fmt = "rss0.9x" if version.startswith("0.9") else "rss2.0"
    channel = None
    siblings: list[etree._Element] = []
    for child in root:
        tag = child.tag
        if channel is None and isinstance(tag, str) and (tag == "channel" or tag.endswith("}channel")):
            channel = child
        else:
            # RSS 0.9x-style documents sometimes put items (and the image)
            # next to the channel instead of inside it.
            siblings.append(child)
    if channel is None:
        channel, siblings = root, []
    ns = etree.QName(root).namespace
    if ns is not None:
        # <rss xmlns="http://backend.userland.com/rss2">: same elements,
        # namespaced.
        return read_channel(channel, url=url, fmt=fmt, siblings=siblings, tags=channel_tags(ns), item_tags=item_tags(ns))
    return read_channel(
        channel,
        url=url,
        fmt=fmt,
        siblings=siblings,
        tags=RSS_CHANNEL_TAGS,
        tags_lower=_RSS_CHANNEL_TAGS_LOWER,
        item_tags=RSS_ITEM_TAGS,
        item_tags_lower=_RSS_ITEM_TAGS_LOWER,
    )


def read_channel(
    channel: etree._Element,
    *,
    url: str,
    fmt: str,
    siblings: Iterable[etree._Element] = (),
    tags: dict[str, str],
    item_tags: dict[str, str],
    tags_lower: dict[str, str] | None = None,
    item_tags_lower: dict[str, str] | None = None,
) -> ParsedFeed:
    """Read a channel (and the channel-level ``siblings``, for RDF and loose
    RSS 0.9x) into a ParsedFeed."""
    base, _ = element_base(channel, url)
    title = dc_title = link = description = itunes_summary = language = None
    image_url = itunes_image = updated = date = hub_url = self_url = alternate = None
    ttl = update_period = update_frequency = None
    skip_hours: frozenset[int] = frozenset()
    skip_days: frozenset[str] = frozenset()
    item_elements: list[etree._Element] = []

    for child in _chain(channel, siblings):
        tag = child.tag
        key = tags.get(tag)
        if key is None:
            if tags_lower is None or not isinstance(tag, str):
                continue
            key = tags_lower.get(tag.lower())
            if key is None:
                continue
        if key == "item":
            item_elements.append(child)
        elif key == "title":
            title = title or text_of(child)
        elif key == "dc_title":
            dc_title = dc_title or text_of(child)
        elif key == "link":
            link = link or text_of(child) or child.get(_RDF_RESOURCE)
        elif key == "description":
            description = description or markup_of(child)
        elif key == "itunes_summary":
            itunes_summary = itunes_summary or markup_of(child)
        elif key == "language":
            language = language or text_of(child)
        elif key == "image":
            image_url = _image_url(child) or image_url
        elif key == "itunes_image":
            itunes_image = itunes_image or child.get("href") or text_of(child)
        elif key == "updated":
            updated = updated or parse_date(text_of(child))
        elif key == "date":
            date = date or parse_date(text_of(child))
        elif key == "atom_link":
            rel = child.get("rel") or "alternate"
            href = resolve_url(base, child.get("href"))
            if rel == "hub":
                hub_url = hub_url or href
            elif rel == "self":
                self_url = self_url or href
            elif rel == "alternate":
                alternate = alternate or href
        elif key == "ttl":
            ttl = clamp(to_int(text_of(child)), 0, MAX_TTL_MINUTES)
        elif key == "update_period":
            period = (text_of(child) or "").lower()
            update_period = period if period in UPDATE_PERIODS else None
        elif key == "update_frequency":
            update_frequency = clamp(to_int(text_of(child)), 1, MAX_UPDATE_FREQUENCY)
        elif key == "skip_hours":
            skip_hours = _skip_hours(child)
        elif key == "skip_days":
            skip_days = _skip_days(child)

    home = resolve_url(base, link) or alternate
    items = tuple(_read_item(el, item_tags, item_tags_lower, base) for el in item_elements)
    return ParsedFeed(
        format=fmt,
        title=plain_text(title or dc_title),
        link=home,
        description=description or itunes_summary,
        language=language,
        image_url=resolve_url(base, image_url or itunes_image),
        updated=updated or date,
        hub_url=hub_url,
        self_url=self_url,
        ttl_minutes=ttl,
        update_period=update_period,
        update_frequency=update_frequency,
        skip_hours=skip_hours,
        skip_days=skip_days,
        items=items,
    )


def _chain(channel: etree._Element, siblings: Iterable[etree._Element]) -> Iterable[etree._Element]:
    yield from channel
    yield from siblings


def _read_item(
    el: etree._Element,
    tags: dict[str, str],
    tags_lower: dict[str, str] | None,
    channel_base: str | None,
) -> ParsedItem:
    base, explicit_base = element_base(el, channel_base)
    title = dc_title = link = orig_link = atom_alternate = guid = None
    author = creator = itunes_author = None
    description = content = itunes_summary = media_description = None
    published = updated = None
    guid_is_link = False
    enclosures: list[Enclosure] = []
    media: list[Enclosure] = []
    categories: list[str] = []

    for child in el:
        tag = child.tag
        key = tags.get(tag)
        if key is None:
            if tags_lower is None or not isinstance(tag, str):
                continue
            key = tags_lower.get(tag.lower())
            if key is None:
                continue
        if key == "title":
            title = title or text_of(child)
        elif key == "link":
            link = link or text_of(child) or child.get("href")
        elif key == "description":
            description = description or markup_of(child)
        elif key == "content":
            content = content or markup_of(child)
        elif key == "date":
            published = published or parse_date(text_of(child))
        elif key == "guid":
            if guid is None:
                guid = text_of(child)
                # isPermaLink defaults to true; a non-URL guid is a permalink
                # only in the spec's imagination, so the URL check decides.
                guid_is_link = (child.get("isPermaLink") or "true").strip().lower() != "false"
        elif key == "creator":
            creator = creator or text_of(child)
        elif key == "author":
            author = author or text_of(child)
        elif key == "category":
            category = text_of(child)
            if category:
                categories.append(category)
        elif key == "enclosure":
            enclosure = _enclosure(base, child.get("url"), child.get("type"), child.get("length"))
            if enclosure is not None:
                enclosures.append(enclosure)
        elif key == "media":
            media_description = read_media(child, base, media) or media_description
        elif key == "updated":
            updated = updated or parse_date(text_of(child))
        elif key == "atom_link":
            rel = child.get("rel") or "alternate"
            if rel == "alternate":
                atom_alternate = atom_alternate or child.get("href")
            elif rel == "enclosure":
                enclosure = _enclosure(base, child.get("href"), child.get("type"), child.get("length"))
                if enclosure is not None:
                    enclosures.append(enclosure)
        elif key == "orig_link":
            orig_link = orig_link or text_of(child)
        elif key == "itunes_summary":
            itunes_summary = itunes_summary or markup_of(child)
        elif key == "itunes_author":
            itunes_author = itunes_author or text_of(child)
        elif key == "dc_title":
            dc_title = dc_title or text_of(child)

    # FeedBurner rewrites <link> to its click tracker; origLink is the article.
    link = resolve_url(base, orig_link or link or atom_alternate)
    if guid is None:
        # RSS 1.0: an item's rdf:about is its URI.
        guid = el.get(_RDF_ABOUT)
    if link is None and guid_is_link and guid and guid.startswith(("http://", "https://")):
        link = guid
    body = content or description or itunes_summary or text_to_html(media_description)
    summary = description if content and description and description != content else None
    return ParsedItem(
        guid=guid,
        link=link,
        title=plain_text(title or dc_title),
        author=one_line(_rss_author(author) or creator or itunes_author),
        published=published,
        updated=updated,
        content=body,
        summary=summary,
        enclosures=tuple(enclosures) if enclosures else _unique(media),
        categories=_unique_strings(categories),
        base_url=base if explicit_base else (link or base),
    )


def read_media(el: etree._Element, base: str | None, into: list[Enclosure]) -> str | None:
    """Append the Media RSS ``media:content``/``media:thumbnail`` found at or
    under ``el`` (a ``media:group`` holds them) to ``into``; return the
    text of a ``media:description``, if any (YouTube's only body)."""
    local = el.tag.rpartition("}")[2]
    if local == "content":
        enclosure = _enclosure(base, el.get("url"), el.get("type"), el.get("fileSize"))
        if enclosure is not None:
            into.append(enclosure)
        description = None
        for child in el:
            # media:content may itself hold a thumbnail or description.
            if isinstance(child.tag, str) and child.tag.startswith(_MEDIA_PREFIXES):
                description = read_media(child, base, into) or description
        return description
    if local == "thumbnail":
        enclosure = _enclosure(base, el.get("url"), None, None)
        if enclosure is not None:
            into.append(enclosure)
        return None
    if local == "description":
        return text_of(el)
    if local == "group":
        description = None
        for child in el:
            if isinstance(child.tag, str) and child.tag.startswith(_MEDIA_PREFIXES):
                description = read_media(child, base, into) or description
        return description
    return None


_MEDIA_PREFIXES: Final = tuple(f"{{{ns}}}" for ns in MEDIA_NAMESPACES)


def _enclosure(base: str | None, href: str | None, mime_type: str | None, length: str | None) -> Enclosure | None:
    url = resolve_url(base, href)
    if not url:
        return None
    return Enclosure(url=url, mime_type=(mime_type or "").strip() or None, length=enclosure_length(to_int(length)))


def _image_url(el: etree._Element) -> str | None:
    for child in el:
        tag = child.tag
        if isinstance(tag, str) and (tag == "url" or tag.endswith("}url")):
            return text_of(child)
    # RDF: <image rdf:resource="..."/> inside the channel.
    return el.get(_RDF_RESOURCE) or el.get(_RDF_ABOUT)


def _skip_hours(el: etree._Element) -> frozenset[int]:
    hours = set()
    for child in el:
        hour = to_int(text_of(child)) if isinstance(child.tag, str) else None
        if hour is not None and 0 <= hour <= 24:
            hours.add(hour % 24)  # some generators count 1-24
    return frozenset(hours)


def _skip_days(el: etree._Element) -> frozenset[str]:
    days = set()
    for child in el:
        day = (text_of(child) or "").capitalize() if isinstance(child.tag, str) else ""
        if day in _DAYS:
            days.add(day)
    return frozenset(days)


def _rss_author(value: str | None) -> str | None:
    """RSS wants ``email (Name)``; show the name when there is one."""
    if not value:
        return None
    if value.endswith(")") and "(" in value:
        email, _, name = value[:-1].partition("(")
        if "@" in email and name.strip():
            return name.strip()
    return value


def _unique(enclosures: list[Enclosure]) -> tuple[Enclosure, ...]:
    seen: set[str] = set()
    result = []
    for enclosure in enclosures:
        if enclosure.url not in seen:
            seen.add(enclosure.url)
            result.append(enclosure)
    return tuple(result)


def _unique_strings(values: list[str]) -> tuple[str, ...]:
    if len(values) < 2:
        return tuple(values)
    return tuple(dict.fromkeys(values))
