"""Feed autodiscovery from HTML pages, and telling pages from feeds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lenta.parse.discover import DiscoveredFeed
from lenta.parse.discover import discover_feeds
from lenta.parse.discover import looks_like_html

PAGE_URL = "https://blog.example.com/posts/hello/"


def page(head: str, body: str = "") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


def urls(feeds: list[DiscoveredFeed]) -> list[str]:
    return [feed.url for feed in feeds]


# --- <link rel="alternate"> ------------------------------------------------


def test_feeds_are_found_in_document_order_with_titles_and_types() -> None:
    html = page(
        '<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom.xml">'
        '<link rel="stylesheet" href="/style.css">'
        '<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss.xml">'
        '<link rel="alternate" type="application/feed+json" title="JSON" href="/feed.json">'
    )
    assert discover_feeds(html, PAGE_URL) == [
        DiscoveredFeed("https://blog.example.com/atom.xml", "Atom", "application/atom+xml"),
        DiscoveredFeed("https://blog.example.com/rss.xml", "RSS", "application/rss+xml"),
        DiscoveredFeed("https://blog.example.com/feed.json", "JSON", "application/feed+json"),
    ]


@pytest.mark.parametrize(
    "mime_type",
    [
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
        "application/x.atom+xml",
        "application/x-atom+xml",
        "text/xml",
        "APPLICATION/RSS+XML",
        "application/rss+xml; charset=UTF-8",
    ],
)
def test_every_feed_type_is_recognised(mime_type: str) -> None:
    html = page(f'<link rel="alternate" type="{mime_type}" href="feed">')
    [feed] = discover_feeds(html, PAGE_URL)
    assert feed.url == "https://blog.example.com/posts/hello/feed"
    assert feed.mime_type == mime_type.split(";")[0].lower()


@pytest.mark.parametrize("rel", ["alternate", "ALTERNATE", "Alternate nofollow", "home  alternate", "feed"])
def test_rel_may_hold_several_tokens_in_any_case(rel: str) -> None:
    html = page(f'<link rel="{rel}" type="application/rss+xml" href="/rss">')
    assert urls(discover_feeds(html, PAGE_URL)) == ["https://blog.example.com/rss"]


@pytest.mark.parametrize(
    "link",
    [
        '<link rel="stylesheet" type="text/css" href="/a.css">',
        '<link rel="alternate" type="text/html" hreflang="de" href="/de/">',
        '<link rel="alternate stylesheet" type="text/css" href="/b.css">',
        '<link rel="license" type="application/rdf+xml" href="/license.rdf">',
        '<link rel="self" type="application/atom+xml" href="/self.xml">',
        '<link rel="alternate" type="application/rss+xml">',
        '<link rel="alternate" type="application/rss+xml" href="">',
        '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">',
        '<link rel="alternate" type="application/rss+xml" href="ftp://example.com/rss">',
        '<link rel="alternate" type="application/json+oembed" href="/oembed?url=x">',
        # WordPress's REST API link on every page, not a feed
        '<link rel="alternate" type="application/json" href="https://blog.example.com/wp-json/wp/v2/posts/1">',
        '<link rel="alternate" type="application/json" href="/?rest_route=/wp/v2/posts/1">',
    ],
)
def test_links_that_are_not_feeds_are_ignored(link: str) -> None:
    assert discover_feeds(page(link), PAGE_URL) == []


def test_duplicates_are_dropped_keeping_the_first() -> None:
    html = page(
        '<link rel="alternate" type="application/rss+xml" title="First" href="/rss">'
        '<link rel="alternate" type="application/rss+xml" title="Again" href="https://blog.example.com/rss">'
        '<link rel="alternate" type="application/rss+xml" title="Fragment" href="/rss#top">'
    )
    assert discover_feeds(html, PAGE_URL) == [DiscoveredFeed("https://blog.example.com/rss", "First", "application/rss+xml")]


def test_base_href_changes_what_relative_links_resolve_against() -> None:
    html = page('<base href="/blog/"><link rel="alternate" type="application/rss+xml" href="rss.xml">')
    assert urls(discover_feeds(html, PAGE_URL)) == ["https://blog.example.com/blog/rss.xml"]


def test_an_absolute_base_href_on_another_host_is_followed() -> None:
    html = page('<base href="https://cdn.example.net/site/"><link rel="alternate" type="application/atom+xml" href="atom">')
    assert urls(discover_feeds(html, PAGE_URL)) == ["https://cdn.example.net/site/atom"]


def test_protocol_relative_and_feed_scheme_urls_become_http() -> None:
    html = page(
        '<link rel="alternate" type="application/rss+xml" href="//feeds.example.org/a">'
        '<link rel="alternate" type="application/rss+xml" href="feed://example.org/b">'
        '<link rel="alternate" type="application/rss+xml" href="feed:https://example.org/c">'
    )
    assert urls(discover_feeds(html, PAGE_URL)) == [
        "https://feeds.example.org/a",
        "http://example.org/b",
        "https://example.org/c",
    ]


def test_titles_are_whitespace_collapsed_and_blank_titles_are_none() -> None:
    html = page(
        '<link rel="alternate" type="application/rss+xml" title="  All\n   posts " href="/a">'
        '<link rel="alternate" type="application/rss+xml" title="   " href="/b">'
    )
    assert [feed.title for feed in discover_feeds(html, PAGE_URL)] == ["All posts", None]


def test_links_in_the_body_and_in_sloppy_markup_are_found() -> None:
    html = b"<html><title>no head</title><LINK REL=alternate TYPE=application/rss+xml HREF=/rss TITLE=Posts><p>unclosed <b>tags"
    assert discover_feeds(html, PAGE_URL) == [DiscoveredFeed("https://blog.example.com/rss", "Posts", "application/rss+xml")]


# --- encodings ---------------------------------------------------------------


def test_titles_decode_with_the_meta_charset() -> None:
    html = (
        '<html><head><meta charset="windows-1251">'
        '<link rel="alternate" type="application/rss+xml" title="Новости" href="/rss">'
        "</head></html>"
    ).encode("windows-1251")
    [feed] = discover_feeds(html, PAGE_URL)
    assert feed.title == "Новости"


def test_the_http_charset_wins_over_the_meta_charset() -> None:
    html = (
        '<html><head><meta charset="utf-8">'
        '<link rel="alternate" type="application/rss+xml" title="Café" href="/rss">'
        "</head></html>"
    ).encode("iso-8859-1")
    [feed] = discover_feeds(html, PAGE_URL, charset="iso-8859-1")
    assert feed.title == "Café"


def test_undeclared_utf8_is_read_as_utf8() -> None:
    html = page('<link rel="alternate" type="application/rss+xml" title="日本語" href="/rss">')
    [feed] = discover_feeds(html, PAGE_URL, charset="no-such-charset")
    assert feed.title == "日本語"


def test_an_xhtml_page_with_an_xml_declaration_is_read() -> None:
    html = (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><head>'
        b'<link rel="alternate" type="application/atom+xml" href="/atom"/></head></html>'
    )
    assert urls(discover_feeds(html, PAGE_URL)) == ["https://blog.example.com/atom"]


# --- <a href> fallback ---------------------------------------------------------


def test_anchor_links_that_look_like_feeds_are_a_fallback() -> None:
    html = page(
        "",
        '<a href="/about">About</a>'
        '<a href="/feed/">Subscribe</a>'
        '<a href="/posts.rss" title="RSS feed">rss</a>'
        '<a href="https://example.org/blog/atom">Atom</a>'
        '<a href="/index.xml">XML</a>'
        '<a href="/sitemap.xml">Sitemap</a>'
        '<a href="mailto:feed@example.com">mail</a>',
    )
    assert discover_feeds(html, PAGE_URL) == [
        DiscoveredFeed("https://blog.example.com/feed/", "Subscribe", None),
        DiscoveredFeed("https://blog.example.com/posts.rss", "RSS feed", "application/rss+xml"),
        DiscoveredFeed("https://example.org/blog/atom", "Atom", "application/atom+xml"),
        DiscoveredFeed("https://blog.example.com/index.xml", "XML", None),
    ]


def test_anchor_links_are_ignored_when_the_page_has_feed_links() -> None:
    html = page(
        '<link rel="alternate" type="application/rss+xml" href="/rss.xml">',
        '<a href="/other.rss">Other</a>',
    )
    assert urls(discover_feeds(html, PAGE_URL)) == ["https://blog.example.com/rss.xml"]


@pytest.mark.parametrize("html", [b"", b"   \n", b"<html></html>", b"just text", b"\x00\xff\xfe garbage"])
def test_pages_without_feeds_give_an_empty_list(html: bytes) -> None:
    assert discover_feeds(html, PAGE_URL) == []


# --- looks_like_html ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!DOCTYPE html><html><head></head></html>", None),
        (b"\n\n  <!doctype HTML>\n<html lang=en>", "text/html; charset=utf-8"),
        (b"<html><body>x</body></html>", "application/rss+xml"),
        (b'<?xml version="1.0"?>\n<!-- generated -->\n<html xmlns="http://www.w3.org/1999/xhtml">', None),
        (b"\xef\xbb\xbf<html>", None),
        (b"<head><title>t</title></head>", None),
        (b"<div>a fragment</div>", None),
        (b"no markup at all", "text/html"),
    ],
)
def test_pages_look_like_html(body: bytes, content_type: str | None) -> None:
    assert looks_like_html(body, content_type)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "text/html"),
        (b'<?xml version="1.0"?>\n<?xml-stylesheet href="a.xsl"?>\n<feed xmlns="x"/>', "text/html"),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', None),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "text/html"),
        (b'<?xml version="1.0"?><opml version="2.0"/>', None),
        ('<?xml version="1.0" encoding="utf-16"?><rss/>'.encode("utf-16-le"), "text/html"),
        ('<?xml version="1.0" encoding="utf-16"?><rss/>'.encode("utf-16"), None),
        (b"no markup at all", None),
        (b"", None),
        (b"<unknown-root/>", "application/xml"),
    ],
)
def test_feeds_and_other_documents_do_not(body: bytes, content_type: str | None) -> None:
    assert not looks_like_html(body, content_type)


# --- the corpus ----------------------------------------------------------------


def corpus_dir() -> Path:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    return Path(os.environ.get("LENTA_CORPUS", default))


def real_files() -> list[Path]:
    real = corpus_dir() / "real"
    if not real.is_dir():
        return []
    return sorted(path for path in real.iterdir() if path.name != "MANIFEST.md")


# The one document in the corpus the manifest calls HTML: an Atom feed inside
# an XHTML <html><body> wrapper.
WRAPPED_FEED = "feedjira__DuplicateContentAtomFeed.xml"


def test_the_corpus_html_wrapper_is_html_with_no_alternate_feed_link() -> None:
    path = corpus_dir() / "real" / WRAPPED_FEED
    if not path.is_file():
        pytest.skip(f"corpus file {path} not found (set LENTA_CORPUS to the shared corpus)")
    body = path.read_bytes()
    assert looks_like_html(body, None)
    # Its <link>s are the embedded feed's own: rel="self" (the feed's URL,
    # but not an alternate of a page), rel="license" with an RDF type, and
    # text/html alternates.  None of them is a page's feed link.
    assert discover_feeds(body, "http://www.tablix.org/~avian/blog/") == []


def real_feeds() -> list[object]:
    feeds = [path for path in real_files() if path.name != WRAPPED_FEED]
    if not feeds:
        reason = f"no corpus at {corpus_dir()} (set LENTA_CORPUS to the shared corpus)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]
    return [pytest.param(path, id=path.name) for path in feeds]


@pytest.mark.parametrize("path", real_feeds())
def test_no_corpus_feed_looks_like_html_even_when_served_as_html(path: Path) -> None:
    assert not looks_like_html(path.read_bytes(), "text/html; charset=utf-8")
