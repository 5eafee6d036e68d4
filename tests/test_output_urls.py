"""Every output applies one URL allowlist (lenta.links.safe_url): the HTML
pages, /aggregator/rss, /aggregator/opml and `lenta export` carry no
javascript:, data: or vbscript: URL, however it is disguised.

The hostile URLs reach the database two ways: feeds served on 127.0.0.1
and refreshed (what the parser keeps of them), and records written through
the storage API (everything, whatever a parser would make of it). Each
carries the marker "pwned", which nothing else in the data does.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from httpserver import LocalServer
from httpserver import Reply
from lxml import etree
from pagetext import parse_page
from test_web import client
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.links import safe_url
from lenta.parse.model import Enclosure
from lenta.storage import Storage
from lenta.storage.records import FeedChanges
from lenta.storage.records import ItemRecord
from lenta.web import create_app

HOSTILE = [
    "javascript:alert('pwned-1')",
    "JaVaScRiPt:alert('pwned-2')",
    "  javascript:alert('pwned-3')",
    "\x01\x02javascript:alert('pwned-4')",
    "java\tscript:alert('pwned-5')",
    "java\nscript:alert('pwned-6')",
    "\tjava\rscript\n:alert('pwned-7')",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==#pwned-8",
    " DATA:text/html,<script>alert('pwned-9')</script>",
    "vbscript:msgbox('pwned-10')",
    "\x1f VBScript:msgbox('pwned-11')",
]
SAFE_PREFIXES = ("http://", "https://", "mailto:", "/", "#")

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Hostile JSON",
        "home_page_url": "javascript:alert('pwned-home')",
        "items": [
            {
                "id": "j1",
                "url": "JaVaScRiPt:alert('pwned-j1')",
                "title": "J1",
                "content_text": "one",
                "attachments": [{"url": " vbscript:msgbox('pwned-j2')", "mime_type": "audio/mpeg"}],
            },
            {
                "id": "j2",
                "url": "\u0001java\tscript:alert('pwned-j3')",
                "title": "J2",
                "content_text": "two",
                "attachments": [{"url": "data:audio/mpeg;base64,AAAA#pwned-j4", "mime_type": "audio/mpeg"}],
            },
            {
                "id": "j3",
                "url": "https://example.com/fine",
                "title": "J3",
                "content_text": "three",
                "attachments": [{"url": "https://example.com/fine.mp3", "mime_type": "audio/mpeg"}],
            },
        ],
    }
).encode()
RSS_FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile RSS</title>'
    b"<link>vbscript:msgbox('pwned-rss-site')</link><description>d</description>"
    b"<item><title>R1</title><link>java&#x09;script:alert('pwned-r1')</link><guid>r1</guid>"
    b'<enclosure url=" data:text/html,pwned-r2" type="audio/mpeg" length="1"/></item>'
    b"<item><title>R2</title><link>  JAVASCRIPT:alert('pwned-r3')</link><guid>r2</guid></item>"
    b"</channel></rss>"
)


@pytest.mark.parametrize("url", HOSTILE)
def test_safe_url_refuses_every_disguise(url: str) -> None:
    assert safe_url(url) == ""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?b=c#d", "https://example.com/a?b=c#d"),
        ("  HTTP://example.com/\t", "HTTP://example.com/"),
        ("\x00https://example.com/pa\nth", "https://example.com/path"),
        ("mailto:someone@example.com", "mailto:someone@example.com"),
        ("//example.com/relative", ""),
        ("/aggregator", ""),
        ("ftp://example.com/file", ""),
        ("\u00a0javascript:alert(1)", ""),
        ("ｊavascript:alert(1)", ""),
        ("http://[broken", "http://[broken"),  # an http URL a browser will not open: harmless, and no error here
        ("", ""),
        (None, ""),
    ],
)
def test_safe_url_keeps_web_and_mail_links(url: str | None, expected: str) -> None:
    assert safe_url(url) == expected


def store_hostile_records(lenta: Lenta, storage: Storage) -> int:
    """A feed whose every URL is hostile, written through the storage API."""
    now = datetime.now(UTC)
    category = lenta.add_category("Hostile")
    feed = storage.feeds.add(
        "javascript:alert('pwned-feed-url')", now=now, custom_title="Stored feed", category_ids=[category.id]
    )
    storage.feeds.change(
        feed.id, FeedChanges(site_url="data:text/html,pwned-site-url", image_url="javascript:alert('pwned-image')")
    )
    records = [
        ItemRecord(
            key=f"k{n}",
            hash=f"h{n}",
            guid=f"g{n}",
            link=url,
            title=f"Stored {n}",
            author=None,
            published_at=None,
            updated_at=None,
            date=now - timedelta(minutes=n),
            content="<p>body</p>",
            summary=None,
            enclosures=(Enclosure(HOSTILE[-1 - n], "audio/mpeg", 1),),
        )
        for n, url in enumerate(HOSTILE)
    ]
    records.append(
        ItemRecord(
            key="ipv6",
            hash="h",
            guid=None,
            link="http://[broken-ipv6",
            title="Broken",
            author=None,
            published_at=None,
            updated_at=None,
            date=now - timedelta(hours=1),
            content=None,
            summary=None,
            enclosures=(Enclosure("https://example.com/ctl\x01.mp3", "audio/\x02mpeg", 1),),
        )
    )
    with storage.db.write() as connection:
        storage.items.insert(connection, feed.id, records, now)
    return feed.id


def urls_in_html(text: str) -> list[str]:
    page = parse_page(text)
    return [
        value
        for element in page.iter()
        if isinstance(element.tag, str)
        for name, value in element.attrib.items()
        if name in {"href", "src", "action", "formaction", "poster"}
    ]


def test_no_output_carries_a_hostile_url(lenta: Lenta, lenta_storage: Storage, settings: Settings) -> None:
    with LocalServer(
        {
            "/feed.json": Reply(body=JSON_FEED, headers={"Content-Type": "application/feed+json"}),
            "/feed.xml": Reply(body=RSS_FEED, headers={"Content-Type": "application/rss+xml"}),
        }
    ) as feeds:
        served = [asyncio.run(lenta.add_feed(feeds.url(path))).id for path in ("/feed.json", "/feed.xml")]
        asyncio.run(lenta.refresh(all_feeds=True))
    stored = store_hostile_records(lenta, lenta_storage)
    assert all(lenta.get_feed(feed_id).item_count >= 2 for feed_id in [*served, stored])
    category = lenta.list_categories()[0]
    pages = [
        "/aggregator",
        "/aggregator?page=1",
        "/aggregator/sources",
        "/aggregator/categories",
        f"/aggregator/categories/{category.id}",
        *(f"/aggregator/sources/{i}" for i in [*served, stored]),
    ]
    with AppServer(create_app(settings, lenta)) as web, client(web) as http:
        html = {path: http.get(path) for path in pages}
        rss = http.get("/aggregator/rss")
        opml = http.get("/aggregator/opml")
    exported = subprocess.run(
        [sys.executable, "-m", "lenta", "export"], capture_output=True, check=True, env={**os.environ, "LENTA_DB": settings.db}
    ).stdout

    for path, response in html.items():
        assert response.status_code == 200, path
        urls = urls_in_html(response.text)
        assert [url for url in urls if not url.startswith(SAFE_PREFIXES) or "pwned" in url] == [], path
    links = urls_in_html(html["/aggregator"].text)
    assert "https://example.com/fine" in links and "https://example.com/fine.mp3" in links

    assert b"pwned" not in rss.content
    channel = etree.fromstring(rss.content).find("channel")
    assert channel is not None
    assert "https://example.com/fine" in [item.findtext("link") for item in channel.iter("item")]
    enclosures = [e.get("url") for e in channel.iter("enclosure")]
    assert "https://example.com/fine.mp3" in enclosures
    assert "https://example.com/ctl.mp3" in enclosures  # what XML cannot carry is left out, not a failure

    for document in (opml.content, exported):
        assert b"pwned" not in document
        outlines = {o.get("text"): o for o in etree.fromstring(document).iter("outline")}
        assert outlines["Hostile JSON"].get("xmlUrl") == lenta.get_feed(served[0]).url
        assert "htmlUrl" not in outlines["Hostile JSON"].attrib and "Stored feed" not in outlines
