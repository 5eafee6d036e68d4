"""Atom 1.0 and 0.3, adapted into ParsedFeed."""

from __future__ import annotations

import base64
from datetime import UTC
from datetime import datetime

from lenta.parse import Enclosure
from lenta.parse import ParsedFeed
from lenta.parse import parse_feed
from lenta.parse.model import MAX_ENCLOSURE_LENGTH

URL = "https://example.org/feeds/atom.xml"


def atom(inner: str, *, attrs: str = "") -> ParsedFeed:
    body = f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" {attrs}>{inner}</feed>'
    return parse_feed(body.encode("utf-8"), url=URL)


def test_feed_metadata() -> None:
    feed = atom(
        """
        <title type="text">Example Feed</title>
        <subtitle type="html">A &lt;em&gt;subtitle&lt;/em&gt;</subtitle>
        <link href="/"/>
        <link rel="self" href="https://example.org/feeds/atom.xml"/>
        <link rel="hub" href="https://hub.example.net/"/>
        <updated>2003-12-13T18:30:02Z</updated>
        <logo>/logo.png</logo>
        <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
        """,
        attrs='xml:lang="en"',
    )
    assert feed.format == "atom1.0"
    assert feed.title == "Example Feed"
    assert feed.description == "A <em>subtitle</em>"
    assert feed.link == "https://example.org/"
    assert feed.self_url == "https://example.org/feeds/atom.xml"
    assert feed.hub_url == "https://hub.example.net/"
    assert feed.updated == datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC)
    assert feed.image_url == "https://example.org/logo.png"
    assert feed.language == "en"


def test_entry_fields() -> None:
    (item,) = atom(
        """
        <entry>
          <title>Atom-Powered Robots Run Amok</title>
          <link rel="alternate" type="text/html" href="http://example.org/2003/12/13/atom03"/>
          <link rel="enclosure" type="audio/mpeg" length="1337" href="http://example.org/audio.mp3"/>
          <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
          <published>2003-12-13T08:29:29-04:00</published>
          <updated>2003-12-13T18:30:02Z</updated>
          <author><name>John Doe</name><email>john@example.org</email></author>
          <category term="robots" label="Robots"/>
          <category term="amok"/>
          <summary>Some text.</summary>
          <content type="html">&lt;p&gt;Full &lt;b&gt;text&lt;/b&gt;&lt;/p&gt;</content>
        </entry>
        """
    ).items
    assert item.title == "Atom-Powered Robots Run Amok"
    assert item.link == "http://example.org/2003/12/13/atom03"
    assert item.guid == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert item.published == datetime(2003, 12, 13, 12, 29, 29, tzinfo=UTC)
    assert item.updated == datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC)
    assert item.author == "John Doe"
    assert item.categories == ("Robots", "amok")
    assert item.content == "<p>Full <b>text</b></p>"
    assert item.summary == "<p>Some text.</p>"
    assert item.enclosures == (Enclosure("http://example.org/audio.mp3", "audio/mpeg", 1337),)


def test_summary_alone_is_the_content() -> None:
    (item,) = atom('<entry><summary type="html">&lt;p&gt;Only&lt;/p&gt;</summary></entry>').items
    assert item.content == "<p>Only</p>"
    assert item.summary is None


def test_text_content_is_escaped_into_html() -> None:
    (item,) = atom('<entry><content type="text">1 &lt; 2 &amp; 3\n\nnext</content></entry>').items
    assert item.content == "<p>1 &lt; 2 &amp; 3</p><p>next</p>"


def test_xhtml_content_is_the_inner_div_without_namespaces() -> None:
    (item,) = atom(
        """<entry><content type="xhtml">
          <div xmlns="http://www.w3.org/1999/xhtml"><p>Hi <b>there</b> &amp; <br/>bye</p><p/></div>
        </content></entry>"""
    ).items
    assert item.content == "<p>Hi <b>there</b> &amp; <br>bye</p><p></p>"


def test_xhtml_with_prefixed_namespace() -> None:
    (item,) = atom(
        '<entry><content type="xhtml" xmlns:x="http://www.w3.org/1999/xhtml"><x:div><x:p>prefixed</x:p></x:div></content></entry>'
    ).items
    assert item.content == "<p>prefixed</p>"


def test_title_types() -> None:
    feed = atom(
        """
        <entry><title type="text">AT&amp;T &lt;rocks&gt;</title></entry>
        <entry><title type="html">Bold &lt;b&gt;move&lt;/b&gt; &amp;amp; more</title></entry>
        <entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">X <i>marks</i></div></title></entry>
        """
    )
    assert [item.title for item in feed.items] == ["AT&T <rocks>", "Bold move & more", "X marks"]


def test_xml_base_resolves_links_and_sets_base_url() -> None:
    feed = atom(
        """
        <link href="index.html"/>
        <entry xml:base="/2024/">
          <link href="post.html"/>
          <content type="html" xml:base="media/">&lt;img src="a.png"&gt;</content>
        </entry>
        """,
        attrs='xml:base="https://base.example.net/blog/"',
    )
    assert feed.link == "https://base.example.net/blog/index.html"
    (item,) = feed.items
    assert item.link == "https://base.example.net/2024/post.html"
    assert item.base_url == "https://base.example.net/2024/media/"


def test_without_xml_base_content_resolves_against_the_entry_link() -> None:
    (item,) = atom('<entry><link href="https://example.org/p/1"/><content>x</content></entry>').items
    assert item.base_url == "https://example.org/p/1"


def test_html_alternate_is_preferred() -> None:
    (item,) = atom(
        '<entry><link rel="alternate" type="application/json" href="/p.json"/>'
        '<link rel="alternate" type="text/html" href="/p.html"/></entry>'
    ).items
    assert item.link == "https://example.org/p.html"


def test_entries_inherit_the_feed_author() -> None:
    feed = atom(
        """<author><name>Feed Author</name></author>
        <entry><title>a</title></entry>
        <entry><title>b</title><author><name>Own</name></author></entry>"""
    )
    assert [item.author for item in feed.items] == ["Feed Author", "Own"]


def test_youtube_media_group_gives_body_and_thumbnail() -> None:
    (item,) = atom(
        """<entry><title>v</title>
        <media:group xmlns:media="http://search.yahoo.com/mrss/">
          <media:thumbnail url="https://i.ytimg.com/vi/x/hq.jpg" width="480" height="360"/>
          <media:description>Line one
Line two</media:description>
        </media:group></entry>"""
    ).items
    assert item.content == "<p>Line one<br>Line two</p>"
    assert item.enclosures == (Enclosure("https://i.ytimg.com/vi/x/hq.jpg"),)


def test_unbound_prefix_does_not_lose_the_entry() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b"<entry><title>e</title><wfw:commentRss>http://x/</wfw:commentRss></entry></feed>"
    )
    feed = parse_feed(body, url=URL)
    assert [item.title for item in feed.items] == ["e"]


def test_atom_03() -> None:
    body = b"""<?xml version="1.0"?>
    <feed version="0.3" xmlns="http://purl.org/atom/ns#">
      <title mode="escaped" type="text/html">Old &amp;amp; gold</title>
      <tagline>Tag line</tagline>
      <link rel="alternate" type="text/html" href="http://example.com/"/>
      <modified>2005-07-31T12:29:29Z</modified>
      <entry>
        <title>First</title>
        <link rel="alternate" type="text/html" href="http://example.com/1"/>
        <id>tag:example.com,2005:1</id>
        <issued>2005-07-31T12:29:29Z</issued>
        <modified>2005-08-01T12:29:29Z</modified>
        <summary type="text/plain">Plain summary</summary>
        <content type="application/xhtml+xml" mode="xml">
          <div xmlns="http://www.w3.org/1999/xhtml"><p>XML mode</p></div>
        </content>
      </entry>
      <entry>
        <content type="text/html" mode="base64">PHA+QmFzZTY0PC9wPg==</content>
      </entry>
    </feed>"""
    feed = parse_feed(body, url=URL)
    assert feed.format == "atom0.3"
    assert feed.title == "Old & gold"
    assert feed.description == "<p>Tag line</p>"
    assert feed.updated == datetime(2005, 7, 31, 12, 29, 29, tzinfo=UTC)
    first, second = feed.items
    assert first.published == datetime(2005, 7, 31, 12, 29, 29, tzinfo=UTC)
    assert first.updated == datetime(2005, 8, 1, 12, 29, 29, tzinfo=UTC)
    assert first.content == "<p>XML mode</p>"
    assert first.summary == "<p>Plain summary</p>"
    assert second.content == "<p>Base64</p>"


def test_atom_without_namespace_is_still_read() -> None:
    feed = parse_feed(b"<feed><title>bare</title><entry><title>e</title></entry></feed>", url=URL)
    assert feed.title == "bare"
    assert len(feed.items) == 1


# --- every number, date and string is bounded (issue 8) ----------------------


def test_enclosure_length_fits_a_bigint() -> None:
    lengths = ["42", str(MAX_ENCLOSURE_LENGTH), str(MAX_ENCLOSURE_LENGTH + 1), "9" * 5000, "1e400", "-1"]
    links = "".join(f'<link rel="enclosure" href="/{n}.mp3" length="{length}"/>' for n, length in enumerate(lengths))
    (item,) = atom(f"<entry><id>x</id>{links}</entry>").items
    assert [enclosure.length for enclosure in item.enclosures] == [42, MAX_ENCLOSURE_LENGTH, None, None, None, None]


def test_dates_outside_the_years_read_as_absent() -> None:
    feed = atom(
        "<updated>9999-12-31T23:59:59Z</updated>"
        "<entry><id>x</id><published>0001-01-01T00:00:00Z</published><updated>2199-12-31T23:00:00-05:00</updated></entry>"
        "<entry><id>y</id><published>1900-01-01T01:00:00+01:00</published><updated>2199-12-31T23:00:00+05:00</updated></entry>"
    )
    assert feed.updated is None
    first, second = feed.items
    assert (first.published, first.updated) == (None, None)  # the second is 2200 in UTC
    assert second.published == datetime(1900, 1, 1, tzinfo=UTC)
    assert second.updated == datetime(2199, 12, 31, 18, tzinfo=UTC)


def test_base64_content_loses_nul_and_control_characters() -> None:
    encoded = base64.b64encode(b"<p>a\x00b\x01c\td</p>").decode()
    body = f"""<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry>
        <title mode="base64">{base64.b64encode(b"x" + bytes([0]) + b"y").decode()}</title>
        <content type="text/html" mode="base64">{encoded}</content></entry></feed>"""
    (item,) = parse_feed(body.encode(), url=URL).items
    assert item.title == "xy"
    assert item.content == "<p>abc\td</p>"
