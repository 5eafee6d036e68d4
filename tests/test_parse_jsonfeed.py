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
from lenta.parse.model import MAX_ENCLOSURE_LENGTH
from lenta.parse.model import MAX_TTL_MINUTES

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


# --- every number, date and string is bounded (issue 8) ----------------------


def test_attachment_size_fits_a_bigint() -> None:
    sizes = [42, MAX_ENCLOSURE_LENGTH, MAX_ENCLOSURE_LENGTH + 1, 10**100, -1, 1.5, True, "42"]
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [{"id": "1", "attachments": [{"url": f"/{n}", "size_in_bytes": size} for n, size in enumerate(sizes)]}],
        }
    )
    # json.dumps cannot write 1e400; JSON can, and json.loads reads it as inf.
    body = body.replace("1.5", "1e400")
    (item,) = parse_feed(body.encode(), url=URL).items
    assert [enclosure.length for enclosure in item.enclosures] == [42, MAX_ENCLOSURE_LENGTH] + [None] * 6


def test_dates_outside_the_years_read_as_absent() -> None:
    feed = jsonfeed(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [
                {"id": "1", "date_published": "99999-01-01T00:00:00Z", "date_modified": "0001-01-01T00:00:00Z"},
                {"id": "2", "date_published": "1899-12-31T23:59:59Z", "date_modified": "2200-01-01T00:00:00Z"},
            ],
        }
    )
    assert [(item.published, item.updated) for item in feed.items] == [(None, None), (None, None)]


def test_rss_in_json_numbers_are_bounded() -> None:
    feed = jsonfeed(
        {
            "rss": {
                "channel": {
                    "title": "t",
                    "ttl": "9" * 5000,
                    "item": [
                        {
                            "link": "http://x/1",
                            "enclosure": [{"url": "http://x/a", "length": "9" * 5000}, {"url": "http://x/b", "length": 10**30}],
                        },
                        {"link": "http://x/2", "pubDate": "Sat, 01 Jan 99999 00:00:00 GMT"},
                    ],
                }
            }
        }
    )
    assert feed.ttl_minutes == MAX_TTL_MINUTES
    first, second = feed.items
    assert [enclosure.length for enclosure in first.enclosures] == [None, None]
    assert second.published is None
    assert jsonfeed({"rss": {"channel": {"ttl": -5, "item": []}}}).ttl_minutes is None
    assert jsonfeed({"rss": {"channel": {"ttl": 10**30, "item": []}}}).ttl_minutes == MAX_TTL_MINUTES


DIRTY = "a\x00b\ud800c\udfffd\x01e"  # json.dumps writes these as \u escapes
CLEAN = "ab\ufffdc\ufffdde"


def test_no_string_holds_nul_controls_or_lone_surrogates() -> None:
    feed = jsonfeed(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": DIRTY,
            "description": DIRTY,
            "language": DIRTY,
            "home_page_url": f"https://x.example/{DIRTY}",
            "feed_url": f"https://x.example/{DIRTY}",
            "icon": f"https://x.example/{DIRTY}",
            "hubs": [{"url": f"https://hub.example/{DIRTY}"}],
            "authors": [{"name": DIRTY}],
            "items": [
                {
                    "id": DIRTY,
                    "url": f"https://x.example/{DIRTY}",
                    "title": DIRTY,
                    "content_html": DIRTY,
                    "summary": DIRTY,
                    "tags": [DIRTY],
                    "authors": [{"name": DIRTY}],
                    "attachments": [{"url": f"https://x.example/{DIRTY}", "mime_type": DIRTY}],
                },
                {"id": "2", "content_text": DIRTY},
            ],
        }
    )
    assert feed.title == feed.language == CLEAN
    assert feed.description == f"<p>{CLEAN}</p>"
    assert feed.link == feed.self_url == feed.image_url == f"https://x.example/{CLEAN}"
    assert feed.hub_url == f"https://hub.example/{CLEAN}"
    first, second = feed.items
    assert first.guid == first.title == first.content == first.author == CLEAN
    assert first.summary == f"<p>{CLEAN}</p>"
    assert first.link == first.base_url == f"https://x.example/{CLEAN}"
    assert first.categories == (CLEAN,)
    assert first.enclosures == (Enclosure(f"https://x.example/{CLEAN}", CLEAN),)
    assert second.content == f"<p>{CLEAN}</p>"


def test_rss_in_json_strings_are_clean_too() -> None:
    feed = jsonfeed(
        {
            "rss": {
                "channel": {
                    "title": DIRTY,
                    "item": {"title": DIRTY, "description": DIRTY, "guid": DIRTY, "author": DIRTY, "category": [DIRTY]},
                }
            }
        }
    )
    (item,) = feed.items
    assert feed.title == item.title == item.content == item.guid == item.author == CLEAN
    assert item.categories == (CLEAN,)


def test_surrogate_pairs_escaped_in_json_are_one_character() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "title": "\\ud83d\\ude00 \\\\ud800", "items": []}'
    assert parse_feed(body, url=URL).title == "\U0001f600 \\ud800"


def test_utf8_encoded_surrogates_do_not_reach_a_string() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "title": "a\xed\xa0\x80b", "items": []}'
    title = parse_feed(body, url=URL).title
    assert title is not None
    assert not any("\ud800" <= char <= "\udfff" for char in title)


def test_short_escapes_of_control_characters_are_cleaned() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "a\\fb\\bc", "title": "t\\td\\ne"}]}'
    (item,) = parse_feed(body, url=URL).items
    assert (item.guid, item.title) == ("abc", "t d e")


def test_a_lone_low_surrogate_after_an_escaped_backslash_is_cleaned() -> None:
    # The JSON text "\\ud800\udc00": a backslash, "ud800", a lone low surrogate.
    body = b'{"version": "https://jsonfeed.org/version/1.1", "title": "\\\\ud800\\udc00", "items": []}'
    assert parse_feed(body, url=URL).title == "\\ud800\ufffd"
