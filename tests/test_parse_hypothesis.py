"""The parser takes anything a server can send: arbitrary bytes, and
arbitrary field values inside otherwise valid RSS 2.0, Atom, RSS 1.0 and
JSON Feed documents. parse_feed raises nothing but lenta's own ParseError
(NotAFeedError included), and every feed it returns is within the model's
bounds: numbers and dates in range, no NUL, other C0 control or lone
surrogate in any string."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any

from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from lenta.exceptions import ParseError
from lenta.parse import ParsedFeed
from lenta.parse import parse_feed
from lenta.parse.model import MAX_ENCLOSURE_LENGTH
from lenta.parse.model import MAX_TTL_MINUTES
from lenta.parse.model import MAX_UPDATE_FREQUENCY
from lenta.parse.model import MAX_YEAR
from lenta.parse.model import MIN_YEAR
from lenta.parse.model import SKIP_DAYS
from lenta.parse.model import UPDATE_PERIODS

URL = "https://example.com/feed"
# lxml's first parse in a process is slow enough to trip hypothesis' deadline.
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORBIDDEN = frozenset(chr(code) for code in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# Titles and authors are one line of text: no control character at all.
NOT_IN_A_LINE = frozenset(chr(code) for code in [*range(0x20), *range(0x7F, 0xA0)])


def strings_of(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from strings_of(getattr(value, field.name))
    elif isinstance(value, (tuple, frozenset)):
        for member in value:
            yield from strings_of(member)


def dates_of(feed: ParsedFeed) -> Iterator[datetime | None]:
    yield feed.updated
    for item in feed.items:
        yield item.published
        yield item.updated


def assert_bounded(feed: ParsedFeed) -> None:
    for text in strings_of(feed):
        assert not FORBIDDEN.intersection(text), repr(text)
        text.encode("utf-8")  # no lone surrogate
    for line in [feed.title, *(item.title for item in feed.items), *(item.author for item in feed.items)]:
        assert line is None or (line == line.strip() and not NOT_IN_A_LINE.intersection(line)), repr(line)
    for date in dates_of(feed):
        if date is not None:
            assert date.tzinfo is not None and date.utcoffset() == timedelta(0)
            assert MIN_YEAR <= date.year <= MAX_YEAR
    assert feed.ttl_minutes is None or 0 <= feed.ttl_minutes <= MAX_TTL_MINUTES
    assert feed.update_frequency is None or 1 <= feed.update_frequency <= MAX_UPDATE_FREQUENCY
    assert feed.update_period is None or feed.update_period in UPDATE_PERIODS
    assert feed.skip_hours <= frozenset(range(24))
    assert feed.skip_days <= frozenset(SKIP_DAYS)
    for item in feed.items:
        for enclosure in item.enclosures:
            assert enclosure.length is None or 0 <= enclosure.length <= MAX_ENCLOSURE_LENGTH


def parse_bounded(body: bytes) -> ParsedFeed | None:
    """The feed, checked; None when the parser refused the document with
    one of lenta's errors (anything else propagates and fails the test)."""
    try:
        feed = parse_feed(body, url=URL)
    except ParseError:
        return None
    assert_bounded(feed)
    return feed


# --- what goes into the documents -------------------------------------------

PIECES = [
    "&", "<", ">", "&amp;", "&lt;", "&#", "&#x", ";", "&#0;", "&#1;", "&#65;", "&#065;", "&#X41;", "&#x0041;",
    "&#xD800;", "&#xdfff;", "&#x110000;", "&#99999999999999999999;", "&#146;", "&#xFFFE;", "&eacute;", "&nbsp;",
    "&foo;", "&AMP;", "&copy", "<3", "< b", "a<=b", "<b>", "</b>", "<br/>", "<![CDATA[", "]]>", "<!--", "-->",
    "<?", "?>", "<!DOCTYPE x>", '"', "'", "=", "\x00", "\x01", "\x0b", "\ud800", "\udfff", "\ufffe", "\u2028",
    "\U0001f600", "é", "\t", "\n", "\r", " ", "\\", "\\ud800",
]  # fmt: skip
tricky_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=12).map("".join)
number_text = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["99999999999999999999", "1e400", "-1", "0", "24", "٣", "²", "1,234", " 7 ", "9" * 5000, "0" * 30 + "5"]),
    tricky_text,
)
ZONES = ["GMT", "Z", "UTC", "EST", "+0000", "-1200", "+1400", "+99:99", "-00:00", "+05:30", "XYZ", ""]
date_text = st.one_of(
    st.builds(
        lambda when, zone, form: when.strftime(form).replace("%Z", zone) + (" " + zone if "%z" not in form else ""),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
        st.sampled_from(ZONES),
        st.sampled_from(["%a, %d %b %Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%d %B %Y %H:%M", "%Y/%m/%d %H:%M"]),
    ),
    st.builds(
        lambda when, minutes: when.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
        st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
    ),
    st.sampled_from([
        "Sat, 01 Jan 99999 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 -1200", "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00", "1899-12-31T23:59:59Z", "2200-01-01T00:00:00Z", "99999999999999999999",
        "1/1/99999999999999999999", "2019-01-01T00:00:00+99999999999999999999", "Sun Jan  6 13:52:44 2019",
    ]),
    number_text,
)  # fmt: skip
field_text = st.one_of(tricky_text, number_text, date_text)
ENCODINGS = ["utf-8", "utf-16", "windows-1251", "latin-1"]


def encode(document: str, encoding: str) -> bytes:
    if encoding == "utf-8":
        # surrogatepass: lone surrogates become the invalid UTF-8 bytes a
        # broken server would send.
        return document.encode("utf-8", "surrogatepass")
    return document.replace('encoding="utf-8"', f'encoding="{encoding}"').encode(encoding, "replace")


def fill(template: str, values: list[str]) -> str:
    parts = template.split("{}")
    out = [parts[0]]
    for index, part in enumerate(parts[1:]):
        out.append(values[index % len(values)])
        out.append(part)
    return "".join(out)


RSS_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"
  xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>{}</title><link>{}</link><description>{}</description><language>{}</language>
<lastBuildDate>{}</lastBuildDate><pubDate>{}</pubDate><ttl>{}</ttl>
<sy:updatePeriod>{}</sy:updatePeriod><sy:updateFrequency>{}</sy:updateFrequency>
<skipHours><hour>{}</hour><hour>{}</hour></skipHours><skipDays><day>{}</day></skipDays>
<image><url>{}</url></image><atom:link rel="self" href="{}"/><atom:link rel="hub" href="{}"/>
<item><title>{}</title><link>{}</link><guid isPermaLink="{}">{}</guid><author>{}</author>
<description>{}</description><content:encoded><![CDATA[{}]]></content:encoded>
<pubDate>{}</pubDate><dc:date>{}</dc:date><atom:updated>{}</atom:updated><category>{}</category>
<enclosure url="{}" type="{}" length="{}"/><atom:link rel="enclosure" href="{}" length="{}"/>
<media:content url="{}" fileSize="{}"><media:description>{}</media:description></media:content></item>
<item xml:base="{}"><title><![CDATA[{}]]></title><link>{}</link><dc:creator>{}</dc:creator></item>
</channel></rss>"""

ATOM_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{}" xml:base="{}">
<title type="html">{}</title><subtitle>{}</subtitle><updated>{}</updated>
<link href="{}"/><link rel="self" href="{}"/><link rel="hub" href="{}"/><logo>{}</logo>
<author><name>{}</name><email>{}</email></author>
<entry><id>{}</id><title>{}</title><link href="{}" type="{}"/><published>{}</published><updated>{}</updated>
<link rel="enclosure" href="{}" type="{}" length="{}"/><category term="{}" label="{}"/>
<content type="html">{}</content><summary type="text">{}</summary></entry>
<entry xml:base="{}"><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{}</div></title>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{}</div></content><author>{}</author></entry>
</feed>"""

ATOM03_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title mode="{}" type="{}">{}</title><modified>{}</modified>
<entry><title mode="base64">{}</title><issued>{}</issued><content mode="{}" type="{}">{}</content></entry></feed>"""

RDF_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel rdf:about="{}"><title>{}</title><link>{}</link><description>{}</description><dc:date>{}</dc:date>
<sy:updatePeriod>{}</sy:updatePeriod><sy:updateFrequency>{}</sy:updateFrequency><image rdf:resource="{}"/></channel>
<item rdf:about="{}"><title>{}</title><link>{}</link><description>{}</description>
<dc:date>{}</dc:date><dc:creator>{}</dc:creator><dc:subject>{}</dc:subject></item>
</rdf:RDF>"""

TEMPLATES = {"rss": RSS_TEMPLATE, "atom": ATOM_TEMPLATE, "atom03": ATOM03_TEMPLATE, "rdf": RDF_TEMPLATE}


# --- the tests ---------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=3000))
@example(b"")
@example(b"\x00\x00\x00<\x00\x00\x00r")
@example(b"\xef\xbb\xbf{")
def test_arbitrary_bytes(body: bytes) -> None:
    parse_bounded(body)


@SETTINGS
@given(
    st.sampled_from(
        [b"<rss><channel>", b'<feed xmlns="http://www.w3.org/2005/Atom">', b"<?xml version='1.0'?>\n<rdf:RDF>", b'{"items": [']
    ),
    st.binary(max_size=2000),
)
def test_arbitrary_bytes_after_a_feed_start(start: bytes, rest: bytes) -> None:
    parse_bounded(start + rest)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(TEMPLATES)),
    st.lists(field_text, min_size=1, max_size=50),
    st.sampled_from(ENCODINGS),
)
@example("rss", ["Fish & Chips & more <3"], "utf-8")
@example("atom", ["&#xD800;"], "utf-8")
@example("rdf", ["\ud800"], "utf-8")
@example("atom03", ["base64", "text/html", "AAEC"], "utf-8")
@example("atom", ["", "<![CDATA[", "&#1;"], "utf-8")  # an opener in an attribute: test_parse_text.py
def test_any_field_values_in_xml_feeds(kind: str, values: list[str], encoding: str) -> None:
    parse_bounded(encode(fill(TEMPLATES[kind], values), encoding))


@SETTINGS
@given(st.sampled_from(["rss", "atom", "rdf"]), st.integers(min_value=1, max_value=3000), field_text)
def test_deep_nesting_in_xml_feeds(kind: str, depth: int, text: str) -> None:
    nested = "<div>" * depth + text + "</div>" * depth
    parse_bounded(encode(fill(TEMPLATES[kind], ["t", nested]), "utf-8"))


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    field_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)),
    max_leaves=12,
)
ITEM_KEYS = [
    "id", "url", "external_url", "title", "content_html", "content_text", "summary", "image", "date_published",
    "date_modified", "tags", "language",
]  # fmt: skip
attachments = st.lists(
    st.fixed_dictionaries(
        {"url": field_text},
        optional={"mime_type": json_values, "size_in_bytes": st.one_of(json_scalars, st.integers(min_value=2**62))},
    ),
    max_size=3,
)
authors = st.lists(st.fixed_dictionaries({}, optional={"name": json_values, "url": json_values}), max_size=2)
json_items = st.fixed_dictionaries(
    {},
    optional={
        **{key: st.one_of(field_text, json_values) for key in ITEM_KEYS},
        "attachments": st.one_of(attachments, json_values),
        "authors": st.one_of(authors, json_values),
        "author": st.one_of(authors.map(lambda listed: listed[0] if listed else {}), json_values),
    },
)
json_feeds = st.fixed_dictionaries(
    {
        "version": st.sampled_from(["https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1"]),
        "items": st.lists(json_items, max_size=4),
    },
    optional={
        key: st.one_of(field_text, json_values)
        for key in ["title", "home_page_url", "feed_url", "description", "icon", "favicon", "language", "hubs"]
    },
)
rss_in_json = st.fixed_dictionaries(
    {
        "rss": st.fixed_dictionaries(
            {
                "channel": st.fixed_dictionaries(
                    {"item": st.one_of(json_values, st.lists(st.dictionaries(st.sampled_from(
                        ["title", "link", "guid", "description", "pubDate", "author", "category", "enclosure"]
                    ), json_values, max_size=8), max_size=3))},
                    optional={key: st.one_of(field_text, json_values) for key in ["title", "link", "ttl", "lastBuildDate"]},
                )
            }
        )
    }
)  # fmt: skip


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_feeds, rss_in_json), st.booleans())
@example({"version": "https://jsonfeed.org/version/1.1", "title": "a\x00b\ud800", "items": [{"id": "\udfff"}]}, True)
@example({"version": "https://jsonfeed.org/version/1.1", "title": "\\ud800\udc00", "items": []}, True)
@example({"version": "https://jsonfeed.org/version/1", "items": [{"attachments": [{"url": "x", "size_in_bytes": 10**40}]}]}, True)
def test_any_field_values_in_json_feeds(data: dict[str, Any], ensure_ascii: bool) -> None:
    text = json.dumps(data, ensure_ascii=ensure_ascii)
    parse_bounded(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.integers(min_value=1, max_value=50_000))
def test_deep_nesting_in_json_feeds(depth: int) -> None:
    parse_bounded(b'{"version": "https://jsonfeed.org/version/1.1", "items": [' + b"[" * depth + b"]" * depth + b"]}")


def test_dates_in_results_are_utc_aware() -> None:
    feed = parse_bounded(encode(fill(RSS_TEMPLATE, ["t", "2020-02-03T04:05:06+05:00"]), "utf-8"))
    assert feed is not None
    assert feed.updated == datetime(2020, 2, 2, 23, 5, 6, tzinfo=UTC)
