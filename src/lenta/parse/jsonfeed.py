"""JSON Feed 1.0/1.1, and Dave Winer's RSS-in-JSON.

JSON documents are untrusted like any other: every value is checked for
its type before use, and a wrong type reads as absent rather than failing
the whole feed. Bounding size and nesting is the caller's job (the fetcher
caps the body size). JSON can spell any code point, NUL and lone
surrogates included (``"\u0000"``, ``"\ud800"``); :func:`load` cleans
them out of every string (see :func:`lenta.parse.xml.clean_text`).

RSS-in-JSON (``{"rss": {"channel": {...}}}``, scripting.com) is RSS 2.0
spelled as JSON; it is reported as ``rss2.0``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any
from typing import Final

from lenta._marks import N_
from lenta.exceptions import NotAFeedError
from lenta.exceptions import ParseError
from lenta.parse.dates import parse_date
from lenta.parse.encoding import decode_text
from lenta.parse.model import MAX_TTL_MINUTES
from lenta.parse.model import Enclosure
from lenta.parse.model import ParsedFeed
from lenta.parse.model import ParsedItem
from lenta.parse.model import clamp
from lenta.parse.model import enclosure_length
from lenta.parse.xml import clean_text
from lenta.parse.xml import one_line
from lenta.parse.xml import plain_text
from lenta.parse.xml import resolve_url
from lenta.parse.xml import text_to_html
from lenta.parse.xml import to_int

_VERSION_PREFIX: Final = "https://jsonfeed.org/version/"
# The escapes that decode to a character clean_text() removes: a C0 control
# other than tab, newline and carriage return ("\b" and "\f" among them), a
# high surrogate not followed by a low one, a low one not preceded by a high
# one (the JSON decoder joins a proper pair into one character). What looks
# like a high one before a low one may be text after an escaped backslash
# ("\\ud800\udc00" holds a lone low surrogate), so a low one after "\\ud8xx"
# counts as lone too. json.loads() refuses the raw controls and the text is
# decoded strictly, so without such an escape (or a look-alike) every string
# of the document is clean already and none has to be looked at. The
# pattern starts with the backslash so that re scans for it at C speed (a
# leading lookbehind makes it many times slower).
_INVALID_ESCAPE: Final = re.compile(
    r"""\\(?:
        [bf] | u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])
      | u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])
      | (?:(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\)|(?<=\\\\u[dD][89abAB][0-9a-fA-F]{2}\\))u[dD][c-fC-F][0-9a-fA-F]{2}
    )""",
    re.VERBOSE,
)


def load(body: bytes, charset: str | None = None) -> Any:
    """The decoded JSON value of ``body``, every string in it cleaned.

    Raises:
        ParseError: the document is not valid JSON (truncated, say).
    """
    try:
        try:
            # The encoding json itself detects (UTF-8 with or without BOM,
            # UTF-16, UTF-32), decoded strictly: json.loads(bytes) would let
            # UTF-8-encoded surrogates through.
            text = body.decode(json.detect_encoding(body))
        except UnicodeDecodeError:
            text = decode_text(body, charset)
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            "The JSON document is invalid at line {line}, column {column}: {error}.",
            brief=N_("The JSON document is invalid at line {line}, column {column}."),
            line=exc.lineno,
            column=exc.colno,
            error=json_reason(exc.msg),
        ) from exc
    except RecursionError as exc:
        raise ParseError("The JSON document is nested too deeply.") from exc
    if _INVALID_ESCAPE.search(text) is not None:
        data = _clean_strings(data)
    return data


# json's messages, some ending in a dangling "at" (their position is ours to
# give), as sentences a feed's author can act on.
_JSON_REASONS: Final = {
    "Expecting value": "a value was expected",
    "Expecting property name enclosed in double quotes": "a name in double quotes was expected",
    "Expecting ':' delimiter": "a colon was expected",
    "Expecting ',' delimiter": "a comma was expected",
    "Unterminated string starting at": "a string is not closed",
    "Invalid control character at": "a string holds a control character (a line break, say) unescaped",
    "Invalid \\escape": "a backslash escape is invalid",
    "Invalid \\uXXXX escape": "a \\u escape is not four hex digits",
    "Extra data": "more follows the end of the document",
}


def json_reason(message: str) -> str:
    """What json.JSONDecodeError's ``msg`` means, without its dangling "at"."""
    reason = _JSON_REASONS.get(message)
    if reason is None:
        reason = message.removesuffix(" at").removesuffix(" starting")
        reason = reason[:1].lower() + reason[1:]
    return reason


def _clean_strings(data: Any) -> Any:
    """``data`` with :func:`clean_text` applied to every string value, in
    place; iterative, as deep as json.loads() allowed."""
    if isinstance(data, str):
        return clean_text(data)
    stack = [data] if isinstance(data, (dict, list)) else []
    while stack:
        node = stack.pop()
        pairs = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in pairs:
            if isinstance(value, str):
                node[key] = clean_text(value)  # a new value for an existing key: safe while iterating
            elif isinstance(value, (dict, list)):
                stack.append(value)
    return data


def parse(body: bytes, *, url: str, charset: str | None = None, max_items: int | None = None) -> ParsedFeed:
    """Adapt a JSON Feed (or RSS-in-JSON) document to a ParsedFeed, reading
    at most ``max_items`` of its items (the first ones; ``skipped_items``
    counts the others).

    Raises:
        ParseError: not valid JSON.
        NotAFeedError: valid JSON, but not a feed.
    """
    data = load(body, charset)
    if not isinstance(data, dict):
        raise NotAFeedError("The JSON document is not a feed.")
    rss = data.get("rss")
    if isinstance(rss, dict) and isinstance(rss.get("channel"), dict):
        skipped = _cut(rss["channel"], "item", max_items)
        return dataclasses.replace(_parse_rss_in_json(rss["channel"], url), skipped_items=skipped)
    version = _str(data.get("version")) or ""
    if not version.startswith(_VERSION_PREFIX) and not isinstance(data.get("items"), list):
        raise NotAFeedError("The JSON document is not a JSON Feed.")
    skipped = _cut(data, "items", max_items)
    feed = _parse_json_feed(data, url, "json1.1" if version.endswith("/1.1") else "json1.0")
    return dataclasses.replace(feed, skipped_items=skipped) if skipped else feed


def _cut(container: dict[str, Any], key: str, limit: int | None) -> int:
    """Keep the first ``limit`` entries of the list at ``container[key]``;
    how many went."""
    entries = container.get(key)
    if limit is None or not isinstance(entries, list) or len(entries) <= limit:
        return 0
    container[key] = entries[:limit]
    return len(entries) - limit


def _parse_json_feed(data: dict[str, Any], url: str, fmt: str) -> ParsedFeed:
    home = resolve_url(url, _str(data.get("home_page_url")))
    feed_authors = _authors(data)
    hub_url = None
    for hub in _list(data.get("hubs")):
        if isinstance(hub, dict) and (hub_url := resolve_url(url, _str(hub.get("url")))):
            break
    items = tuple(_item(item, url, feed_authors) for item in _list(data.get("items")) if isinstance(item, dict))
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
                    length=enclosure_length(size) if isinstance(size, int) and not isinstance(size, bool) else None,
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
            name = one_line(_str(author.get("name")))
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
                enclosures.append(
                    Enclosure(
                        url=href,
                        mime_type=_str(enclosure.get("type")),
                        length=enclosure_length(_int(enclosure.get("length"))),
                    )
                )
        items.append(
            ParsedItem(
                guid=guid,
                link=item_link,
                title=plain_text(_str(item.get("title"))),
                author=one_line(_str(item.get("author"))),
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
        ttl_minutes=clamp(_int(channel.get("ttl")), 0, MAX_TTL_MINUTES),
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
    """A JSON number or numeric string as an int, unbounded (the caller
    bounds it) but never converted from thousands of digits; None for
    anything else, negative numbers included."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, str):
        return to_int(value)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_list(value: Any) -> list[Any]:
    """RSS-in-JSON writes one child as an object and several as a list."""
    if isinstance(value, list):
        return value
    return [] if value is None else [value]
