"""RSS 1.0 and RSS 0.90 (RDF), adapted into ParsedFeed."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from lenta.parse import detect_format
from lenta.parse import parse_feed
from lenta.parse.model import MAX_UPDATE_FREQUENCY

URL = "https://example.net/index.rdf"

RSS10 = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF
  xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel rdf:about="https://example.net/">
    <title>Meerkat</title>
    <link>https://example.net/</link>
    <description>Open Wire Service</description>
    <dc:language>de</dc:language>
    <dc:date>2000-01-01T12:00:00+00:00</dc:date>
    <sy:updatePeriod>daily</sy:updatePeriod>
    <sy:updateFrequency>4</sy:updateFrequency>
    <image rdf:resource="https://example.net/meerkat.png"/>
    <items><rdf:Seq><rdf:li resource="https://example.net/1"/></rdf:Seq></items>
  </channel>
  <image rdf:about="https://example.net/meerkat.png">
    <title>Meerkat</title>
    <url>https://example.net/meerkat-big.png</url>
  </image>
  <item rdf:about="https://example.net/1">
    <title>XML: A Disruptive Technology</title>
    <link>/1.html</link>
    <description>XML is placing increasingly heavy loads.</description>
    <content:encoded>&lt;p&gt;Full body&lt;/p&gt;</content:encoded>
    <dc:creator>Simon St.Laurent</dc:creator>
    <dc:subject>XML</dc:subject>
    <dc:date>2000-01-01T12:00:00+02:00</dc:date>
  </item>
  <item rdf:about="https://example.net/2"><title>Second</title></item>
</rdf:RDF>"""


def test_rss10_channel() -> None:
    feed = parse_feed(RSS10, url=URL)
    assert feed.format == "rss1.0"
    assert feed.title == "Meerkat"
    assert feed.link == "https://example.net/"
    assert feed.description == "Open Wire Service"
    assert feed.language == "de"
    assert feed.updated == datetime(2000, 1, 1, 12, 0, tzinfo=UTC)
    assert feed.update_period == "daily"
    assert feed.update_frequency == 4
    # The top-level <image> with a <url> beats the channel's rdf:resource.
    assert feed.image_url == "https://example.net/meerkat-big.png"


def test_rss10_items() -> None:
    first, second = parse_feed(RSS10, url=URL).items
    assert first.title == "XML: A Disruptive Technology"
    assert first.link == "https://example.net/1.html"
    assert first.guid == "https://example.net/1"
    assert first.author == "Simon St.Laurent"
    assert first.categories == ("XML",)
    assert first.published == datetime(2000, 1, 1, 10, 0, tzinfo=UTC)
    assert first.content == "<p>Full body</p>"
    assert first.summary == "XML is placing increasingly heavy loads."
    # rdf:about is the item's URI, not (by itself) its link.
    assert second.guid == "https://example.net/2"
    assert second.link is None


def test_rss090() -> None:
    body = b"""<?xml version="1.0"?>
    <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
             xmlns="http://my.netscape.com/rdf/simple/0.9/">
      <channel><title>Mozilla Dot Org</title><link>http://www.mozilla.org</link></channel>
      <item><title>New Status Updates</title><link>http://www.mozilla.org/status/</link></item>
      <item><title>Bugzilla Reorganized</title><link>http://www.mozilla.org/bugs/</link></item>
    </rdf:RDF>"""
    feed = parse_feed(body, url=URL)
    assert feed.format == "rss0.9x"
    assert feed.title == "Mozilla Dot Org"
    assert [item.link for item in feed.items] == ["http://www.mozilla.org/status/", "http://www.mozilla.org/bugs/"]


def test_rdf_items_without_a_channel_are_still_read() -> None:
    body = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
        b"<item><title>orphan</title></item></rdf:RDF>"
    )
    feed = parse_feed(body, url=URL)
    assert feed.title is None
    assert [item.title for item in feed.items] == ["orphan"]


def test_detect_rdf() -> None:
    assert detect_format(RSS10) == "rdf"


def test_syndication_hints_and_dates_are_bounded() -> None:
    body = (
        RSS10.replace(b"<sy:updateFrequency>4<", b"<sy:updateFrequency>99999999999999999999<")
        .replace(b"<sy:updatePeriod>daily<", b"<sy:updatePeriod>every other blue moon<")
        .replace(b"2000-01-01T12:00:00+00:00", b"99999-01-01T12:00:00+00:00")
        .replace(b"2000-01-01T12:00:00+02:00", b"1066-10-14T09:00:00+00:00")
    )
    feed = parse_feed(body, url=URL)
    assert feed.update_frequency == MAX_UPDATE_FREQUENCY
    assert feed.update_period is None
    assert feed.updated is None
    assert feed.items[0].published is None
