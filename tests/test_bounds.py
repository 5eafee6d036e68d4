"""What one fetch may store is bounded: at most ``items_per_fetch`` items
(newest kept), every field within its size, and the feed's health page
says what was cut."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime

import pytest
from httpserver import LocalServer
from httpserver import Reply
from lxml import html as lxml_html
from test_web import ADMIN
from test_web import PASSWORD
from test_web import client
from test_web import sign_in
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.parse.model import Enclosure
from lenta.parse.model import ParsedFeed
from lenta.parse.model import ParsedItem
from lenta.parse.sanitize import HTMLSanitizer
from lenta.update import decide
from lenta.web import create_app

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml"}
sanitize = HTMLSanitizer(frozenset({"p", "a", "em", "strong", "div", "ul", "li"})).sanitize


def big_feed(count: int, *, dated: bool = True) -> bytes:
    newest = datetime(2026, 11, 1, tzinfo=UTC)
    items = "".join(
        f"<item><guid>g{n}</guid><title>Item {n}</title>"
        + (f"<pubDate>{format_datetime(newest - timedelta(minutes=n), usegmt=True)}</pubDate>" if dated else "")
        + "</item>"
        for n in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()


def test_only_the_newest_items_of_a_fetch_are_kept_in_feed_order() -> None:
    # Feed order is not date order here: the oldest items come first.
    items = tuple(ParsedItem(guid=f"g{n}", title=f"{n}", published=NOW - timedelta(hours=2000 - n)) for n in range(2000))
    built = decide.build_records(ParsedFeed("rss2.0", items=items), sanitize, NOW, decide.Limits(items=300))
    assert built.dropped_items == 1700
    assert [r.guid for r in built.records] == [f"g{n}" for n in range(1700, 2000)]


def test_undated_items_over_the_cap_keep_the_first_ones_the_feed_lists() -> None:
    items = tuple(ParsedItem(guid=f"g{n}") for n in range(50))
    built = decide.build_records(ParsedFeed("rss2.0", items=items), sanitize, NOW, decide.Limits(items=10))
    assert [r.guid for r in built.records] == [f"g{n}" for n in range(10)]
    assert built.dropped_items == 40


def test_every_field_is_cut_to_its_bound_and_counted() -> None:
    limits = decide.Limits()
    huge_html = "<div><p><em>" + "word " * 1_000_000  # 5 MB, every tag left open
    item = ParsedItem(
        guid="x" * 10_000,
        link="https://example.com/" + "a" * 10_000,
        title="t" * 10_000_000,
        author="a" * 5000,
        content=huge_html,
        summary=huge_html,
        enclosures=tuple(Enclosure(f"https://example.com/{n}.mp3") for n in range(200))
        + (Enclosure("https://example.com/" + "b" * 10_000),),
        categories=tuple("c" * 1000 for _ in range(500)),
    )
    built = decide.build_records(ParsedFeed("rss2.0", items=(item,)), sanitize, NOW)
    (record,) = built.records
    assert record.title is not None and len(record.title) == limits.title and record.title.endswith("…")
    assert record.author is not None and len(record.author) == limits.author
    assert record.link is None and record.guid is None  # half a URL leads nowhere
    assert record.key.startswith("sha256:")  # the long guid still identifies the item
    for body in (record.content, record.summary):
        assert body is not None and len(body) <= limits.content
        # Cut HTML is still whole HTML: every element it opened is closed.
        assert body.endswith("…") and "</em></p></div>" in body
    assert len(record.enclosures) == limits.enclosures
    assert len(record.categories) == limits.categories and all(len(c) == limits.category for c in record.categories)
    assert built.cut_fields == 8  # title, author, link, guid, content, summary, enclosures, categories
    again = decide.build_records(ParsedFeed("rss2.0", items=(item,)), sanitize, NOW).records[0]
    assert (again.key, again.hash) == (record.key, record.hash)  # the next fetch sees the same item, unchanged


def test_the_feeds_own_fields_are_bounded() -> None:
    parsed = ParsedFeed(
        "rss2.0",
        title="T" * 5000,
        description="<p>" + "d" * 1_000_000,
        link="https://example.com/" + "x" * 9000,
        update_period="hourly" * 10,
    )
    feed, cut = decide.bounded_feed(parsed, sanitize, "https://example.com/feed")
    assert feed.title is not None and len(feed.title) == 1000
    assert feed.description is not None and len(feed.description) <= decide.Limits().content
    assert feed.link is None and feed.update_period is not None and len(feed.update_period) == 16
    assert cut == 4


@pytest.mark.parametrize("dated", [True, False])
def test_a_huge_feed_stores_the_cap_and_the_health_page_says_so(lenta: Lenta, settings: Settings, dated: bool) -> None:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    lenta.save_site_settings({"items_per_fetch": "500"})
    routes = {"/big": Reply(body=big_feed(5000, dated=dated), headers=RSS)}
    with LocalServer(routes) as server:
        feed = asyncio.run(lenta.add_feed(server.url("/big"), discover=False))
        summary = asyncio.run(lenta.refresh([feed.id]))
    assert summary.new_items == 500
    stored = lenta.items_page(0, 1000, feed_id=feed.id)
    assert stored.total == 500
    expected = {f"Item {n}" for n in range(500)}  # the newest (dated) or the first listed (undated)
    assert {item.title for item in stored.items} == expected
    assert lenta.fetch_history(feed.id)[0].dropped_items == 4500
    with AppServer(create_app(settings, lenta)) as web, client(web) as http:
        sign_in(http)
        page = http.get(f"{ADMIN}/health/{feed.id}")
    cell = lxml_html.fromstring(page.text).cssselect(".fetch-cut")[0].text_content()  # type: ignore[attr-defined]
    assert cell == "4,500 oldest items left out"  # numbers in the page's language (Babel)


def test_a_10_mb_item_does_not_fill_the_front_page(lenta: Lenta, settings: Settings) -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title><item><guid>1</guid>'
        "<title>"
        + "Long title " * 100_000
        + "</title><description>&lt;p&gt;"
        + "All work and no play. " * 500_000
        + "&lt;/p&gt;</description></item></channel></rss>"
    ).encode()
    assert len(body) > 10_000_000
    with LocalServer({"/huge": Reply(body=body, headers=RSS)}) as server:
        feed = asyncio.run(lenta.add_feed(server.url("/huge"), discover=False))
        asyncio.run(lenta.refresh([feed.id]))
    with AppServer(create_app(settings, lenta)) as web, client(web) as http:
        page = http.get("/aggregator")
    assert page.status_code == 200
    assert len(page.content) < 2 * decide.Limits().content + 50_000
    assert lenta.fetch_history(feed.id)[0].cut_fields == 2  # the title and the description


def test_items_per_fetch_is_a_validated_setting(lenta: Lenta) -> None:
    from lenta.exceptions import InvalidInputError

    for bad in ("0", "-1", "100001", "lots", "9" * 5000):
        with pytest.raises(InvalidInputError):
            lenta.save_site_settings({"items_per_fetch": bad})
    assert lenta.save_site_settings({"items_per_fetch": "20"}).items_per_fetch == 20
