"""JSON Feed 1.0/1.1 and RSS-in-JSON, adapted into ParsedFeed."""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from typing import Any

import pytest

from lenta.exceptions import NotAFeedError
from lenta.exceptions import ParseError
from lenta.parse import Enclosure
from lenta.parse import ParsedFeed
from lenta.parse import detect_format
from lenta.parse import parse_feed

URL = "https://example.org/feed.json"


def jsonfeed(data: dict[str, Any]) -> ParsedFeed:
    return parse_feed(json.dumps(data).encode("utf-8"), url=URL, content_type="application/feed+json")


def test_feed_metadata() -> None:
    feed = jsonfeed(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "  My  Example Feed ",
            "home_page_url": "https://example.org/",
            "feed_url": "https://example.org/feed.json",
            "description": "A feed & more",
            "icon": "/icon.png",
            "language": "en",
            "hubs": [{"type": "WebSub", "url": "https://hub.example.net/"}],
            "items": [],
        }
    )
    assert feed.format == "json1.1"
    assert feed.title == "My Example Feed"
    assert feed.link == "https://example.org/"
    assert feed.self_url == "https://example.org/feed.json"
    assert feed.description == "<p>A feed &amp; more</p>"
    assert feed.image_url == "https://example.org/icon.png"
    assert feed.language == "en"
    assert feed.hub_url == "https://hub.example.net/"


def test_item_fields() -> None:
    feed = jsonfeed(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "t",
            "authors": [{"name": "Feed Author"}],
            "items": [
                {
                    "id": "2",
                    "url": "/2",
                    "title": "Second & last",
                    "content_html": "<p>Hello, world!</p>",
                    "summary": "Short",
                    "date_published": "2010-02-07T14:04:00-05:00",
                    "date_modified": "2010-02-08T09:00:00Z",
                    "authors": [{"name": "Ann"}, {"name": "Bob"}],
                    "tags": ["a", "b", "a", 3],
                    "attachments": [
                        {"url": "https://example.org/ep.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 42},
                        {"mime_type": "no/url"},
                    ],
                },
                {"id": 1, "content_text": "Plain <text>\n\nSecond paragraph"},
            ],
        }
    )
    first, second = feed.items
    assert first.guid == "2"
    assert first.link == "https://example.org/2"
    assert first.title == "Second & last"
    assert first.content == "<p>Hello, world!</p>"
    assert first.summary == "<p>Short</p>"
    assert first.published == datetime(2010, 2, 7, 19, 4, tzinfo=UTC)
    assert first.updated == datetime(2010, 2, 8, 9, 0, tzinfo=UTC)
    assert first.author == "Ann, Bob"
    assert first.categories == ("a", "b")
    assert first.enclosures == (Enclosure("https://example.org/ep.mp3", "audio/mpeg", 42),)
    assert first.base_url == "https://example.org/2"

    assert second.guid == "1"  # a number where the spec wants a string
    assert second.content == "<p>Plain &lt;text&gt;</p><p>Second paragraph</p>"
    assert second.author == "Feed Author"
    assert second.base_url == URL


def test_version_10_author_object() -> None:
    feed = jsonfeed(
        {
            "version": "https://jsonfeed.org/version/1",
            "title": "t",
            "items": [{"id": "x", "author": {"name": "Solo"}, "content_text": "hi"}],
        }
    )
    assert feed.format == "json1.0"
    assert feed.items[0].author == "Solo"


def test_wrong_types_read_as_absent() -> None:
    feed = jsonfeed(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": ["not", "a", "string"],
            "items": [{"id": None, "title": 5, "tags": "x", "attachments": {}, "date_published": 7}, "junk"],
        }
    )
    assert feed.title is None
    (item,) = feed.items
    assert item.guid is None
    assert item.title is None
    assert item.categories == ()
    assert item.published is None


def test_rss_in_json() -> None:
    body = {
        "rss": {
            "version": "2.0",
            "channel": {
                "title": "Scripting News",
                "link": "http://scripting.com/",
                "lastBuildDate": "Mon, 26 Jun 2017 19:41:48 GMT",
                "item": [
                    {
                        "description": "Good morning",
                        "pubDate": "Mon, 26 Jun 2017 12:20:05 GMT",
                        "guid": {"isPermaLink": "true", "#value": "http://scripting.com/2017/06/26.html#a1"},
                        "enclosure": {"url": "http://x/a.mp3", "type": "audio/mpeg", "length": "10"},
                        "category": [{"#value": "a"}, "b"],
                    }
                ],
            },
        }
    }
    feed = jsonfeed(body)
    assert feed.format == "rss2.0"
    assert feed.title == "Scripting News"
    assert feed.updated == datetime(2017, 6, 26, 19, 41, 48, tzinfo=UTC)
    (item,) = feed.items
    assert item.link == "http://scripting.com/2017/06/26.html#a1"
    assert item.content == "Good morning"
    assert item.enclosures == (Enclosure("http://x/a.mp3", "audio/mpeg", 10),)
    assert item.categories == ("a", "b")


def test_other_json_is_not_a_feed() -> None:
    with pytest.raises(NotAFeedError):
        parse_feed(b'{"error": "rate limited"}', url=URL)
    with pytest.raises(NotAFeedError):
        parse_feed(b"[1, 2, 3]", url=URL)


def test_truncated_json_is_a_parse_error_with_a_position() -> None:
    with pytest.raises(ParseError, match="line 1, column") as info:
        parse_feed(b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": "1"', url=URL)
    assert not isinstance(info.value, NotAFeedError)


def test_deep_nesting_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_feed(b"[" * 100_000 + b"]" * 100_000, url=URL)


def test_utf8_bom_is_accepted() -> None:
    body = b"\xef\xbb\xbf" + json.dumps({"version": "https://jsonfeed.org/version/1", "title": "é", "items": []}).encode()
    assert parse_feed(body, url=URL).title == "é"


def test_latin1_json_is_decoded_not_rejected() -> None:
    body = '{"version": "https://jsonfeed.org/version/1", "title": "Café", "items": []}'.encode("latin-1")
    assert parse_feed(body, url=URL, charset="iso-8859-1").title == "Café"


def test_detect_json() -> None:
    assert detect_format(b'  {"version": "https://jsonfeed.org/version/1.1"}') == "json"


def test_titles_decode_entities_but_keep_angle_brackets() -> None:
    feed = jsonfeed(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [
                {"id": "1", "title": "I&#039;m &quot;here&quot; &amp; there"},
                {"id": "2", "title": "Die Rückkehr von <i> und <b>"},
            ],
        }
    )
    assert [item.title for item in feed.items] == ['I\'m "here" & there', "Die Rückkehr von <i> und <b>"]
