"""RSS 0.9x/2.0 and its modules, adapted into ParsedFeed."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest

from lenta.exceptions import NotAFeedError
from lenta.exceptions import ParseError
from lenta.parse import Enclosure
from lenta.parse import ParsedFeed
from lenta.parse import detect_format
from lenta.parse import parse_feed
from lenta.parse.model import MAX_ENCLOSURE_LENGTH
from lenta.parse.model import MAX_TTL_MINUTES
from lenta.parse.model import MAX_UPDATE_FREQUENCY
from lenta.parse.model import MAX_YEAR
from lenta.parse.model import MIN_YEAR
from lenta.parse.model import SKIP_DAYS

URL = "https://example.com/blog/feed.xml"

NAMESPACES = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" '
    'xmlns:media="http://search.yahoo.com/mrss/" '
    'xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"'
)


def rss(channel: str, *, version: str = "2.0", namespaces: str = NAMESPACES) -> ParsedFeed:
    body = f'<?xml version="1.0" encoding="utf-8"?><rss version="{version}" {namespaces}><channel>{channel}</channel></rss>'
    return parse_feed(body.encode("utf-8"), url=URL)


def test_channel_metadata() -> None:
    feed = rss(
        """
        <title>Example &amp; Co</title>
        <link>https://example.com/</link>
        <description>All about &lt;b&gt;examples&lt;/b&gt;</description>
        <language>en-us</language>
        <lastBuildDate>Tue, 10 Jun 2003 09:41:01 GMT</lastBuildDate>
        <image><url>/logo.png</url><title>Example</title><link>https://example.com/</link></image>
        <atom:link rel="self" href="https://example.com/blog/feed.xml" type="application/rss+xml"/>
        <atom:link rel="hub" href="https://pubsubhubbub.appspot.com/"/>
        """
    )
    assert feed.format == "rss2.0"
    assert feed.title == "Example & Co"
    assert feed.link == "https://example.com/"
    assert feed.description == "All about <b>examples</b>"
    assert feed.language == "en-us"
    assert feed.updated == datetime(2003, 6, 10, 9, 41, 1, tzinfo=UTC)
    assert feed.image_url == "https://example.com/logo.png"
    assert feed.self_url == "https://example.com/blog/feed.xml"
    assert feed.hub_url == "https://pubsubhubbub.appspot.com/"
    assert feed.items == ()


def test_scheduling_hints_are_carried_raw() -> None:
    feed = rss(
        """
        <title>t</title>
        <ttl>60</ttl>
        <sy:updatePeriod>Hourly</sy:updatePeriod>
        <sy:updateFrequency>2</sy:updateFrequency>
        <skipHours><hour>0</hour><hour>1</hour><hour>24</hour><hour>nope</hour></skipHours>
        <skipDays><day>Saturday</day><day>sunday</day><day>Caturday</day></skipDays>
        """
    )
    assert feed.ttl_minutes == 60
    assert feed.update_period == "hourly"
    assert feed.update_frequency == 2
    assert feed.skip_hours == frozenset({0, 1})
    assert feed.skip_days == frozenset({"Saturday", "Sunday"})


def test_item_fields() -> None:
    feed = rss(
        """
        <title>t</title>
        <item>
          <title>Hello &lt;em&gt;world&lt;/em&gt;</title>
          <link>https://example.com/hello</link>
          <guid isPermaLink="false">post-1</guid>
          <author>jane@example.com (Jane Doe)</author>
          <pubDate>Wed, 02 Oct 2002 13:00:00 GMT</pubDate>
          <category>news</category>
          <category>tech</category>
          <category>news</category>
          <description>Short.</description>
          <content:encoded><![CDATA[<p>The <b>full</b> story.</p>]]></content:encoded>
          <enclosure url="https://example.com/a.mp3" type="audio/mpeg" length="1234"/>
        </item>
        """
    )
    (item,) = feed.items
    assert item.title == "Hello world"
    assert item.link == "https://example.com/hello"
    assert item.guid == "post-1"
    assert item.author == "Jane Doe"
    assert item.published == datetime(2002, 10, 2, 13, 0, tzinfo=UTC)
    assert item.categories == ("news", "tech")
    assert item.content == "<p>The <b>full</b> story.</p>"
    assert item.summary == "Short."
    assert item.enclosures == (Enclosure("https://example.com/a.mp3", "audio/mpeg", 1234),)


def test_description_alone_is_the_content() -> None:
    (item,) = rss("<item><title>x</title><description>&lt;p&gt;Body&lt;/p&gt;</description></item>").items
    assert item.content == "<p>Body</p>"
    assert item.summary is None


def test_dublin_core_fills_author_and_date() -> None:
    (item,) = rss("<item><title>x</title><dc:creator>Ann</dc:creator><dc:date>2020-01-02T03:04:05+01:00</dc:date></item>").items
    assert item.author == "Ann"
    assert item.published == datetime(2020, 1, 2, 2, 4, 5, tzinfo=UTC)


def test_permalink_guid_becomes_the_link() -> None:
    (item,) = rss("<item><title>x</title><guid>https://example.com/p/1</guid></item>").items
    assert item.link == "https://example.com/p/1"
    assert item.guid == "https://example.com/p/1"


def test_guid_marked_not_permalink_is_not_a_link() -> None:
    (item,) = rss('<item><title>x</title><guid isPermaLink="false">https://example.com/p/1</guid></item>').items
    assert item.link is None


def test_guid_that_is_not_a_url_is_not_a_link() -> None:
    (item,) = rss("<item><title>x</title><guid>12345</guid></item>").items
    assert item.link is None
    assert item.guid == "12345"


def test_feedburner_original_link_wins() -> None:
    (item,) = rss(
        "<item><link>https://feeds.feedburner.com/~r/x/1</link>"
        "<feedburner:origLink>https://example.com/real</feedburner:origLink></item>"
    ).items
    assert item.link == "https://example.com/real"


def test_relative_links_resolve_against_the_feed_url() -> None:
    feed = rss("<link>/</link><item><link>posts/1.html</link></item>")
    assert feed.link == "https://example.com/"
    assert feed.items[0].link == "https://example.com/blog/posts/1.html"
    # Relative URLs inside the content resolve against the item's page.
    assert feed.items[0].base_url == "https://example.com/blog/posts/1.html"


def test_base_url_falls_back_to_the_feed_url() -> None:
    (item,) = rss("<item><title>no link</title></item>").items
    assert item.base_url == URL


def test_xml_base_on_the_item_is_its_base_url() -> None:
    (item,) = rss('<item xml:base="https://cdn.example.net/x/"><link>p.html</link></item>').items
    assert item.link == "https://cdn.example.net/x/p.html"
    assert item.base_url == "https://cdn.example.net/x/"


def test_media_content_and_thumbnail_are_enclosures_without_enclosure() -> None:
    (item,) = rss(
        """<item><title>x</title>
        <media:group>
          <media:content url="https://example.com/v.mp4" type="video/mp4" fileSize="99"/>
          <media:thumbnail url="https://example.com/t.jpg"/>
        </media:group>
        <media:thumbnail url="https://example.com/t.jpg"/>
        </item>"""
    ).items
    assert item.enclosures == (
        Enclosure("https://example.com/v.mp4", "video/mp4", 99),
        Enclosure("https://example.com/t.jpg"),
    )


def test_enclosure_beats_media_content() -> None:
    (item,) = rss(
        '<item><enclosure url="https://example.com/a.mp3" type="audio/mpeg"/>'
        '<media:content url="https://example.com/other.mp3"/></item>'
    ).items
    assert [e.url for e in item.enclosures] == ["https://example.com/a.mp3"]


def test_bad_enclosure_length_is_dropped_not_fatal() -> None:
    (item,) = rss('<item><enclosure url="a.mp3" length="about 3MB"/></item>').items
    assert item.enclosures == (Enclosure("https://example.com/blog/a.mp3", None, None),)


def test_rss_091_with_html_entities() -> None:
    feed = rss(
        "<title>Caf&eacute; &amp; Cr&egrave;me&nbsp;News</title><item><title>Caf&eacute;</title></item>",
        version="0.91",
        namespaces="",
    )
    assert feed.format == "rss0.9x"
    assert feed.title == "Café & Crème News"
    assert feed.items[0].title == "Café"


def test_sloppy_element_case_is_tolerated() -> None:
    (item,) = rss("<item><Title>x</Title><pubdate>Wed, 02 Oct 2002 13:00:00 GMT</pubdate></item>").items
    assert item.title == "x"
    assert item.published is not None


def test_unescaped_html_in_description_is_kept_as_markup() -> None:
    (item,) = rss("<item><description>Hello <b>bold</b> &amp; <br/>more</description></item>").items
    assert item.content == "Hello <b>bold</b> &amp; <br>more"


def test_title_whitespace_is_collapsed_and_cdata_decoded() -> None:
    (item,) = rss("<item><title><![CDATA[  Two\n   lines &amp; more ]]></title></item>").items
    assert item.title == "Two lines & more"


def test_items_next_to_the_channel_are_read() -> None:
    body = b'<rss version="0.91"><channel><title>t</title></channel><item><title>loose</title></item></rss>'
    feed = parse_feed(body, url=URL)
    assert [item.title for item in feed.items] == ["loose"]


def test_truncated_feed_keeps_complete_items() -> None:
    body = b"<rss><channel><title>t</title><item><title>one</title></item><item><title>tw"
    feed = parse_feed(body, url=URL)
    assert feed.title == "t"
    assert [item.title for item in feed.items][:1] == ["one"]


def test_leading_whitespace_before_the_declaration() -> None:
    body = b'\n\n  <?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>t</title></channel></rss>'
    assert parse_feed(body, url=URL).title == "t"


def test_detect_format() -> None:
    assert detect_format(b'<?xml version="1.0"?>\n<!-- hi --><rss version="2.0"/>') == "rss"
    assert detect_format(b"<!DOCTYPE html><html><body>no</body></html>") is None
    assert detect_format(b"<opml version='2.0'/>") is None


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(NotAFeedError):
        parse_feed(b"<!DOCTYPE html>\n<html><head><title>x</title></head></html>", url=URL, content_type="text/html")


def test_xhtml_page_is_not_a_feed() -> None:
    body = b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'
    with pytest.raises(NotAFeedError, match="HTML page"):
        parse_feed(body, url=URL)


def test_other_xml_is_not_a_feed() -> None:
    with pytest.raises(NotAFeedError, match="root element is svg"):
        parse_feed(b"<svg><rect/></svg>", url=URL)


@pytest.mark.parametrize("body", [b"", b"   \n", b"hello, world", b"\x00\x01\x02\x03"])
def test_nothing_readable_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(NotAFeedError):
        parse_feed(body, url=URL)


def test_markup_soup_is_a_parse_error_not_a_crash() -> None:
    with pytest.raises(ParseError):
        parse_feed(b"<<<>>>", url=URL)


def test_userland_namespaced_rss() -> None:
    body = (
        b'<rss version="2.0" xmlns="http://backend.userland.com/rss2"><channel><title>ns</title>'
        b"<item><title>i</title><link>https://example.com/i</link></item></channel></rss>"
    )
    feed = parse_feed(body, url=URL)
    assert feed.title == "ns"
    assert [(item.title, item.link) for item in feed.items] == [("i", "https://example.com/i")]


def test_channel_as_the_root_element() -> None:
    feed = parse_feed(b"<channel><title>bare</title><item><title>i</title></item></channel>", url=URL)
    assert feed.title == "bare"
    assert len(feed.items) == 1


# --- every number and date is bounded (issue 8) -----------------------------

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("60", 60),
        ("0", 0),
        (str(MAX_TTL_MINUTES), MAX_TTL_MINUTES),
        (str(MAX_TTL_MINUTES + 1), MAX_TTL_MINUTES),
        (HUGE, MAX_TTL_MINUTES),
        ("9" * 5000, MAX_TTL_MINUTES),
        ("0" * 5000 + "60", 60),
        ("1e400", None),
        ("-5", None),
        ("NaN", None),
        ("²", None),
    ],
)
def test_ttl_is_bounded(written: str, expected: int | None) -> None:
    assert rss(f"<title>t</title><ttl>{written}</ttl>").ttl_minutes == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [("2", 2), ("0", 1), (str(MAX_UPDATE_FREQUENCY + 1), MAX_UPDATE_FREQUENCY), (HUGE, MAX_UPDATE_FREQUENCY), ("1e400", None)],
)
def test_update_frequency_is_bounded(written: str, expected: int | None) -> None:
    feed = rss(f"<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>{written}</sy:updateFrequency>")
    assert feed.update_frequency == expected


@pytest.mark.parametrize(("written", "expected"), [("Weekly", "weekly"), ("fortnightly", None), ("h" * 100, None)])
def test_update_period_is_one_of_the_five(written: str, expected: str | None) -> None:
    assert rss(f"<sy:updatePeriod>{written}</sy:updatePeriod>").update_period == expected


def test_skip_hours_and_days_are_bounded_sets() -> None:
    hours = "".join(f"<hour>{value}</hour>" for value in [HUGE, "-1", "25", "1e400", "23", *map(str, range(10_000))])
    days = "".join(f"<day>{value}</day>" for value in ["Caturday", "x" * 1000, *["Monday"] * 1000, "friday"])
    feed = rss(f"<skipHours>{hours}</skipHours><skipDays>{days}</skipDays>")
    assert feed.skip_hours == frozenset(range(24))
    assert feed.skip_days == frozenset({"Monday", "Friday"})
    assert feed.skip_days <= frozenset(SKIP_DAYS)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("1234", 1234),
        (str(MAX_ENCLOSURE_LENGTH), MAX_ENCLOSURE_LENGTH),
        (str(MAX_ENCLOSURE_LENGTH + 1), None),
        (HUGE, None),
        ("9" * 5000, None),
        ("1e400", None),
        ("-1", None),
    ],
)
def test_enclosure_length_fits_a_bigint(written: str, expected: int | None) -> None:
    (item,) = rss(
        f'<item><enclosure url="a.mp3" length="{written}"/>'
        f'<media:content url="b.mp3" fileSize="{written}"/><atom:link rel="enclosure" href="c.mp3" length="{written}"/></item>'
    ).items
    assert [enclosure.length for enclosure in item.enclosures] == [expected, expected]


@pytest.mark.parametrize(
    "written",
    [
        "Sat, 01 Jan 99999 00:00:00 GMT",
        "Sat, 01 Jan 1899 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 -1200",
        "Mon, 01 Jan 0001 00:00:00 +1400",
        "Sat, 01 Jan 2200 00:00:00 GMT",
        HUGE,
    ],
)
def test_dates_outside_the_years_read_as_absent(written: str) -> None:
    feed = rss(
        f"<lastBuildDate>{written}</lastBuildDate><pubDate>{written}</pubDate>"
        f"<item><pubDate>{written}</pubDate><dc:date>{written}</dc:date><atom:updated>{written}</atom:updated></item>"
    )
    assert feed.updated is None
    assert (feed.items[0].published, feed.items[0].updated) == (None, None)


def test_dates_at_the_edges_of_the_years_are_kept() -> None:
    (item,) = rss(
        "<item><pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate><atom:updated>2199-12-31T23:59:59Z</atom:updated></item>"
    ).items
    assert item.published == datetime(MIN_YEAR, 1, 1, tzinfo=UTC)
    assert item.updated == datetime(MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC)
