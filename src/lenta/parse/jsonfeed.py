"""JSON Feed 1.0/1.1, and Dave Winer's RSS-in-JSON.

JSON documents are untrusted like any other: every value is checked for
its type before use, and a wrong type reads as absent rather than failing
the whole feed. Bounding size and nesting is the caller's job (the fetcher
caps the body size).

RSS-in-JSON (``{"rss": {"channel": {...}}}``, scripting.com) is RSS 2.0
spelled as JSON; it is reported as ``rss2.0``.
"""

from __future__ import annotations

import json
from typing import Any
from typing import Final

from lenta.exceptions import NotAFeedError
from lenta.exceptions import ParseError
from lenta.parse.dates import parse_date
from lenta.parse.encoding import decode_text
from lenta.parse.model import Enclosure
from lenta.parse.model import ParsedFeed
from lenta.parse.model import ParsedItem
from lenta.parse.xml import plain_text
from lenta.parse.xml import resolve_url
from lenta.parse.xml import text_to_html

_VERSION_PREFIX: Final = "https://jsonfeed.org/version/"


def load(body: bytes, charset: str | None = None) -> Any:
    """The decoded JSON value of ``body``.

    Raises:
        ParseError: the document is not valid JSON (truncated, say).
    """
    try:
        try:
            # json detects UTF-8 (with or without BOM), UTF-16 and UTF-32.
            return json.loads(body)
        except UnicodeDecodeError:
            return json.loads(decode_text(body, charset))
    except json.JSONDecodeError as exc:
        raise ParseError(
            "The JSON document is invalid at line {line}, column {column}: {error}.",
            line=exc.lineno,
            column=exc.colno,
            error=exc.msg,
        ) from exc
    except RecursionError as exc:
        raise ParseError("The JSON document is nested too deeply.") from exc


def parse(body: bytes, *, url: str, charset: str | None = None) -> ParsedFeed:
    """Adapt a JSON Feed (or RSS-in-JSON) document to a ParsedFeed.

    Raises:
        ParseError: not valid JSON.
        NotAFeedError: valid JSON, but not a feed.
    """
    data = load(body, charset)
    if not isinstance(data, dict):
        raise NotAFeedError("The JSON document is not a feed.")
    rss = data.get("rss")
    if isinstance(rss, dict) and isinstance(rss.get("channel"), dict):
        return _parse_rss_in_json(rss["channel"], url)
    version = _str(data.get("version")) or ""
    if not version.startswith(_VERSION_PREFIX) and not isinstance(data.get("items"), list):
        raise NotAFeedError("The JSON document is not a JSON Feed.")
    return _parse_json_feed(data, url, "json1.1" if version.endswith("/1.1") else "json1.0")


def _parse_json_feed(data: dict[str, Any], url: str, fmt: str) -> ParsedFeed:
    home = resolve_url(url, _str(data.get("home_page_url")))
    feed_authors = _authors(data)
    hub_url = None
    for hub in _list(data.get("hubs")):
        if isinstance(hub, dict) and (hub_url := resolve_url(url, _str(hub.get("url")))):
            break
    items = tuple(
        _item(item, url, feed_authors) for item in _list(data.get("items")) if isinstance(item, dict)
    )
    return ParsedFeed(
        format=fmt,
        title=plain_text(_str(data.get("title")), strip_tags=False),
        link=home,
        description=text_to_html(_str(data.get("description"))),
        language=_str(data.get("language")),
        image_url=resolve_url(url, _str(data.get("icon")) or _str(data.get("favicon"))),
        hub_url=hub_url,
        self_url=resolve_url(url, _str(data.get("feed_url"))),
        items=items,
    )


def _item(item: dict[str, Any], feed_url: str, feed_authors: str | None) -> ParsedItem:
    link = resolve_url(feed_url, _str(item.get("url")))
    guid = item.get("id")
    # The spec says a string, but numbers are common in the wild.
    guid = str(guid) if isinstance(guid, (str, int)) and not isinstance(guid, bool) else None
    content = _str(item.get("content_html")) or text_to_html(_str(item.get("content_text")))
    summary = _str(item.get("summary"))
    attachments = []
    for attachment in _list(item.get("attachments")):
        if not isinstance(attachment, dict):
            continue
        href = resolve_url(feed_url, _str(attachment.get("url")))
        if href:
            size = attachment.get("size_in_bytes")
            attachments.append(
                Enclosure(
                    url=href,
                    mime_type=_str(attachment.get("mime_type")),
                    length=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
                )
            )
    tags = tuple(dict.fromkeys(tag.strip() for tag in _list(item.get("tags")) if isinstance(tag, str) and tag.strip()))
    return ParsedItem(
        guid=guid,
        link=link,
        title=plain_text(_str(item.get("title")), strip_tags=False),
        author=_authors(item) or feed_authors,
        published=parse_date(_str(item.get("date_published"))),
        updated=parse_date(_str(item.get("date_modified"))),
        content=content or (text_to_html(summary) if summary else None),
        summary=text_to_html(summary) if content and summary else None,
        enclosures=tuple(attachments),
        categories=tags,
        base_url=link or feed_url,
    )


def _authors(obj: dict[str, Any]) -> str | None:
    """JSON Feed 1.1 ``authors`` (a list) or 1.0 ``author`` (an object), as
    one display string."""
    names = []
    for author in _list(obj.get("authors")) or [obj.get("author")]:
        if isinstance(author, dict):
            name = _str(author.get("name"))
            if name:
                names.append(name)
    return ", ".join(names) or None


def _parse_rss_in_json(channel: dict[str, Any], url: str) -> ParsedFeed:
    base = url
    link = resolve_url(base, _str(channel.get("link")))
    items = []
    for item in _as_list(channel.get("item")):
        if not isinstance(item, dict):
            continue
        guid_value = item.get("guid")
        guid_is_link = True
        if isinstance(guid_value, dict):
            guid_is_link = str(guid_value.get("isPermaLink", "true")).lower() != "false"
            guid_value = guid_value.get("#value")
        guid = _str(guid_value)
        item_link = resolve_url(base, _str(item.get("link")))
        if item_link is None and guid_is_link and guid and guid.startswith(("http://", "https://")):
            item_link = guid
        enclosures = []
        for enclosure in _as_list(item.get("enclosure")):
            if isinstance(enclosure, dict) and (href := resolve_url(base, _str(enclosure.get("url")))):
                length = _str(enclosure.get("length")) or enclosure.get("length")
                enclosures.append(
                    Enclosure(
                        url=href,
                        mime_type=_str(enclosure.get("type")),
                        length=int(length) if isinstance(length, (int, str)) and str(length).isdigit() else None,
                    )
                )
        items.append(
            ParsedItem(
                guid=guid,
                link=item_link,
                title=plain_text(_str(item.get("title"))),
                author=_str(item.get("author")),
                published=parse_date(_str(item.get("pubDate"))),
                content=_str(item.get("description")),
                enclosures=tuple(enclosures),
                categories=tuple(dict.fromkeys(_category_names(item.get("category")))),
                base_url=item_link or base,
            )
        )
    return ParsedFeed(
        format="rss2.0",
        title=plain_text(_str(channel.get("title"))),
        link=link,
        description=_str(channel.get("description")),
        language=_str(channel.get("language")),
        updated=parse_date(_str(channel.get("lastBuildDate")) or _str(channel.get("pubDate"))),
        ttl_minutes=_int(channel.get("ttl")),
        items=tuple(items),
    )


def _category_names(value: Any) -> list[str]:
    names = []
    for category in _as_list(value):
        if isinstance(category, dict):
            category = category.get("#value")
        name = _str(category)
        if name:
            names.append(name)
    return names


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_list(value: Any) -> list[Any]:
    """RSS-in-JSON writes one child as an object and several as a list."""
    if isinstance(value, list):
        return value
    return [] if value is None else [value]
