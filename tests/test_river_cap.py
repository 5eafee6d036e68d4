"""The river's per-feed cap (issue 10): with the site setting *Items of one
feed on a page*, the page of all items and the category pages show at most
that many items of one feed, the rest of that feed's items on the page
folded into one line linking to the feed's page; page numbers and what
each page holds do not change."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from pagetext import parse_page
from test_web import ADMIN
from test_web import PASSWORD
from test_web import client
from test_web import form_token
from test_web import sign_in
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.types import Item
from lenta.web import create_app
from lenta.web.river import Folded
from lenta.web.river import cap_per_feed

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ITEM = Item(id=0, feed_id=0, feed_title="", key="", guid=None, link=None, title=None, author=None, published_at=None,
            updated_at=None, date=NOW, content=None, summary=None, enclosures=(), categories=(), first_seen_at=NOW)  # fmt: skip


def items(*feeds: int) -> list[Item]:
    return [replace(ITEM, id=n, feed_id=feed, feed_title=f"feed {feed}") for n, feed in enumerate(feeds)]


def test_a_feed_past_the_cap_is_folded_where_its_first_hidden_item_was() -> None:
    page = items(1, 1, 1, 2, 1, 1, 3, 2)
    entries = cap_per_feed(page, 2)
    assert [e.id if isinstance(e, Item) else e for e in entries] == [0, 1, Folded(1, "feed 1", 3), 3, 6, 7]


def test_no_cap_and_feeds_under_it_are_left_alone() -> None:
    page = items(1, 2, 1, 3)
    assert cap_per_feed(page, 0) == page
    assert cap_per_feed(page, 2) == page


def feed(name: str, count: int, start: datetime) -> bytes:
    body = "".join(
        f"<item><title>{name} {n}</title><guid>{name}-{n}</guid>"
        f"<pubDate>{format_datetime(start - timedelta(minutes=n), usegmt=True)}</pubDate></item>"
        for n in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{body}</channel></rss>'.encode()


@pytest.fixture
def site(lenta: Lenta, settings: Settings) -> Iterator[tuple[AppServer, int, int]]:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    routes = {
        "/busy.xml": Reply(body=feed("Busy", 25, NOW), headers={"Content-Type": "application/rss+xml"}),
        "/quiet.xml": Reply(body=feed("Quiet", 3, NOW - timedelta(minutes=5)), headers={"Content-Type": "application/rss+xml"}),
    }
    with LocalServer(routes) as feeds:
        category = lenta.add_category("All of them")
        busy = asyncio.run(lenta.add_feed(feeds.url("/busy.xml"), discover=False, category_ids=[category.id])).id
        asyncio.run(lenta.add_feed(feeds.url("/quiet.xml"), discover=False, category_ids=[category.id]))
        asyncio.run(lenta.refresh(all_feeds=True))
    with AppServer(create_app(settings, lenta)) as web:
        yield web, busy, category.id


def shown(web: AppServer, path: str, language: str = "en") -> tuple[list[str], list[tuple[str, str]]]:
    response = httpx.get(web.url(path), headers={"Accept-Language": language})
    assert response.status_code == 200
    page = parse_page(response.text)
    titles = [" ".join(t.text_content().split()) for t in page.cssselect("article.feed-item .feed-item-title")]
    folded = [(" ".join(a.text_content().split()), a.get("href")) for a in page.cssselect(".feed-items-folded a")]
    return titles, folded


def test_all_items_are_shown_by_default(site: tuple[AppServer, int, int], lenta: Lenta) -> None:
    web, _, _ = site
    assert lenta.site_settings().river_feed_items == 0
    titles, folded = shown(web, "/aggregator")
    assert len(titles) == 20 and not folded


def test_the_setting_folds_a_busy_feed_on_the_river_and_category_pages(site: tuple[AppServer, int, int], lenta: Lenta) -> None:
    web, busy, category_id = site
    with client(web) as http:
        sign_in(http)
        form = http.get(f"{ADMIN}/settings").text
        options = [o.get("value") for o in parse_page(form).cssselect("select#edit-river-feed-items option")]
        assert options == ["0", "1", "2", "3", "5", "10"]
        assert http.post(f"{ADMIN}/settings", data={"csrf_token": form_token(form), "river_feed_items": "3"}).status_code == 303
        refused = http.post(f"{ADMIN}/settings", data={"csrf_token": form_token(form), "river_feed_items": "4"})
        assert refused.status_code == 400 and "Unsupported number of items of one feed on a page: 4" in refused.text
    assert lenta.site_settings().river_feed_items == 3
    for path in ("/aggregator", f"/aggregator/categories/{category_id}"):
        titles, folded = shown(web, path)
        # Page 0 holds Busy 0-4, Quiet 0-2 (five minutes older), Busy 5-16: three of Busy shown, 14 folded.
        assert titles == ["Busy 0", "Busy 1", "Busy 2", "Quiet 0", "Quiet 1", "Quiet 2"], path
        assert folded == [("14 more items from Busy", f"/aggregator/sources/{busy}")], path
        # The next page holds what it held before (Busy 17-24), the cap applied to it alone.
        titles, folded = shown(web, f"{path}?page=1")
        assert titles == ["Busy 17", "Busy 18", "Busy 19"] and folded == [
            ("5 more items from Busy", f"/aggregator/sources/{busy}")
        ]
    # A feed's own page shows all of its items.
    titles, _ = shown(web, f"/aggregator/sources/{busy}")
    assert len(titles) == 20
    _, folded = shown(web, "/aggregator", "ru")
    assert folded == [("ещё 14 записей из Busy", f"/aggregator/sources/{busy}")]
    _, folded = shown(web, "/aggregator?page=1", "ru")
    assert folded == [("ещё 5 записей из Busy", f"/aggregator/sources/{busy}")]
