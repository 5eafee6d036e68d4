"""Icons (issue 10): lenta's own favicon, and each feed's icon fetched
through the guarded client (bounded, checked to be an image), cached in the
database, served from lenta's own URL, shown on the pages, and fetched again
after a week (the clock passed in, no sleeps)."""

from __future__ import annotations

import asyncio
import base64
import struct
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from pagetext import parse_page
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.icons import MAX_ICON_BYTES
from lenta.icons import IconTarget
from lenta.icons import digest
from lenta.icons import favicon_url
from lenta.icons import home_page
from lenta.icons import icon_links
from lenta.icons import sniff_image
from lenta.storage import Storage
from lenta.web import create_app
from lenta.web.favicon import favicon_png

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml"}
PNG = favicon_png()
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
ICO = b"\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00\x01\x00\x20\x00" + b"\x00" * 40
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML_404 = b"<!doctype html><html><body>Not here, but 200 all the same</body></html>"


def rss(image: str | None = None, link: str = "/") -> bytes:
    channel_image = f"<image><url>{image}</url><title>x</title><link>{link}</link></image>" if image else ""
    item = (
        f"<item><title>Post</title><link>https://example.com/post</link><guid>p1</guid>"
        f"<pubDate>{format_datetime(T0 - timedelta(hours=1), usegmt=True)}</pubDate><description>Text</description></item>"
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Iconic</title><link>{link}</link>'
        f"<description>d</description>{channel_image}{item}</channel></rss>"
    ).encode()


def page(*links: str) -> bytes:
    return f"<!doctype html><html><head><title>Home</title>{''.join(links)}</head><body>Hi</body></html>".encode()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def timed(settings: Settings, clock: Clock) -> Iterator[Lenta]:
    """A facade over the test's database whose clock the test moves."""
    instance = make_lenta(settings, clock=clock)
    yield instance
    instance.close()


def add_and_refresh(lenta: Lenta, url: str) -> int:
    feed_id = asyncio.run(lenta.add_feed(url, discover=False)).id
    asyncio.run(lenta.refresh([feed_id]))
    assert lenta.get_feed(feed_id).error is None
    return feed_id


def icon_paths(server: LocalServer) -> list[str]:
    return [path for path in server.paths if not path.endswith(".xml")]


# -- lenta's own icon ------------------------------------------------------


def test_favicon_ico_is_an_image_and_pages_link_the_svg(lenta: Lenta, settings: Settings) -> None:
    with AppServer(create_app(settings, lenta)) as web:
        ico = httpx.get(web.url("/favicon.ico"))
        svg = httpx.get(web.url("/static/favicon.svg"))
        home = httpx.get(web.url("/aggregator"))
    assert ico.status_code == 200
    assert ico.headers["content-type"] == "image/x-icon"
    assert "max-age" in ico.headers["cache-control"]
    reserved, kind, count = struct.unpack("<HHH", ico.content[:6])
    assert (reserved, kind, count) == (0, 1, 1)
    width, height, _, _, _, _, size, offset = struct.unpack("<BBBBHHII", ico.content[6:22])
    assert (width, height) == (32, 32)
    png = ico.content[offset : offset + size]
    assert sniff_image(png) == "image/png" and len(ico.content) == offset + size
    assert struct.unpack(">II", png[16:24]) == (32, 32)  # IHDR's width and height
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    head = parse_page(home.text).cssselect("head link[rel=icon]")
    assert [link.get("href") for link in head] == ["/static/favicon.svg", "/favicon.ico"]


# -- where an icon comes from ------------------------------------------------


def test_the_feed_s_own_image_comes_first(timed: Lenta, server: LocalServer, settings: Settings) -> None:
    server.routes.update(
        {
            "/feed.xml": Reply(body=rss(image="/logo.png"), headers=RSS),
            "/logo.png": Reply(body=PNG, headers={"Content-Type": "image/png"}),
            "/": Reply(body=page('<link rel="icon" href="/other.png">'), headers={"Content-Type": "text/html"}),
        }
    )
    feed_id = add_and_refresh(timed, server.url("/feed.xml"))
    summary = asyncio.run(timed.refresh_icons())
    assert (summary.tried, summary.found) == (1, 1)
    assert icon_paths(server) == ["/logo.png"]
    icon = timed.feed_icon(feed_id)
    assert icon is not None
    assert (icon.data, icon.media_type, icon.digest, icon.url) == (PNG, "image/png", digest(PNG), server.url("/logo.png"))
    assert icon.fetched_at == T0
    assert timed.icon_versions([feed_id, feed_id + 1]) == {feed_id: digest(PNG)}


def test_then_the_home_page_s_link_rel_icon_then_favicon_ico(timed: Lenta, server: LocalServer) -> None:
    server.routes.update(
        {
            "/a.xml": Reply(body=rss(link="/site/"), headers=RSS),
            "/site/": Reply(
                body=page(
                    '<link rel="icon" type="image/svg+xml" href="/vector.svg">',  # never an SVG
                    '<link rel="apple-touch-icon" href="/touch.png">',
                    '<link rel="shortcut icon" href="icons/small.ico">',
                ),
                headers={"Content-Type": "text/html; charset=utf-8"},
            ),
            "/site/icons/small.ico": Reply(body=ICO, headers={"Content-Type": "image/vnd.microsoft.icon"}),
        }
    )
    a = add_and_refresh(timed, server.url("/a.xml"))
    asyncio.run(timed.refresh_icons())
    assert icon_paths(server) == ["/site/", "/site/icons/small.ico"]
    icon = timed.feed_icon(a)
    assert icon is not None and icon.media_type == "image/x-icon" and icon.data == ICO

    # A page without icon links: /favicon.ico of the site's host (served as octet-stream, as some servers do).
    server.routes.update(
        {
            "/b.xml": Reply(body=rss(link="/plain/"), headers=RSS),
            "/plain/": Reply(body=page(), headers={"Content-Type": "text/html"}),
            "/favicon.ico": Reply(body=GIF, headers={"Content-Type": "application/octet-stream"}),
        }
    )
    server.requests.clear()
    b = add_and_refresh(timed, server.url("/b.xml"))
    asyncio.run(timed.refresh_icons())
    assert icon_paths(server) == ["/plain/", "/favicon.ico"]
    icon = timed.feed_icon(b)
    assert icon is not None and icon.media_type == "image/gif"


def test_icon_links_and_candidates() -> None:
    html = page(
        '<base href="https://cdn.example.com/assets/">',
        '<link rel="apple-touch-icon" href="touch.png">',
        '<link rel="ICON" href="fav.png">',
        '<link rel="icon" href="javascript:alert(1)">',
        '<link rel="icon" href="data:image/png;base64,AAAA">',
        '<link rel="icon" href="/v.svg">',
        '<link rel="stylesheet" href="style.css">',
        '<link rel="icon" href="fav.png">',
    )
    assert icon_links(html, "https://example.com/") == [
        "https://cdn.example.com/assets/fav.png",
        "https://cdn.example.com/assets/touch.png",
    ]
    assert icon_links(b"", "https://example.com/") == []
    assert icon_links(b"\x00\xff not html", "https://example.com/") == []
    target = IconTarget(1, "https://feeds.example.com/blog/rss.xml", None, None)
    assert home_page(target) == "https://feeds.example.com/"
    assert favicon_url(target) == "https://feeds.example.com/favicon.ico"
    target = IconTarget(1, "https://feeds.example.com/rss", "https://www.example.com/blog/", None)
    assert home_page(target) == "https://www.example.com/blog/"
    assert favicon_url(target) == "https://www.example.com/favicon.ico"
    assert home_page(IconTarget(1, "https://feeds.example.com/rss", "javascript:x", None)) == "https://feeds.example.com/"


def test_sniffing() -> None:
    assert sniff_image(PNG) == "image/png"
    assert sniff_image(GIF) == "image/gif"
    assert sniff_image(ICO) == "image/x-icon"
    assert sniff_image(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_image(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image(SVG) is None
    assert sniff_image(HTML_404) is None
    assert sniff_image(b"") is None


# -- the guard and the bounds ------------------------------------------------------


def test_a_feed_on_a_private_address_gets_no_icon_without_the_allowlist(
    timed: Lenta, server: LocalServer, settings: Settings
) -> None:
    server.routes.update(
        {
            "/feed.xml": Reply(body=rss(image="/logo.png"), headers=RSS),
            "/logo.png": Reply(body=PNG, headers={"Content-Type": "image/png"}),
            "/favicon.ico": Reply(body=PNG, headers={"Content-Type": "image/png"}),
            "/": Reply(body=page('<link rel="icon" href="/logo.png">'), headers={"Content-Type": "text/html"}),
        }
    )
    feed_id = add_and_refresh(timed, server.url("/feed.xml"))  # fetched while 127.0.0.1 was allowed
    timed.settings = settings.replace(fetch_allow="")
    summary = asyncio.run(timed.refresh_icons())
    assert (summary.tried, summary.found) == (1, 0)
    assert icon_paths(server) == []  # the guard refused every one before a byte was sent
    assert timed.feed_icon(feed_id) is None
    assert timed.icon_versions([feed_id]) == {}


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(Reply(body=PNG + b"\0" * MAX_ICON_BYTES, headers={"Content-Type": "image/png"}), id="too-large"),
        pytest.param(
            Reply(body=lambda: iter([PNG] + [b"\0" * 65536] * 4), headers={"Content-Type": "image/png"}), id="too-large-chunked"
        ),
        pytest.param(Reply(body=HTML_404, headers={"Content-Type": "text/html"}), id="html-page"),
        pytest.param(Reply(body=PNG, headers={"Content-Type": "text/html"}), id="png-called-html"),
        pytest.param(Reply(body=SVG, headers={"Content-Type": "image/svg+xml"}), id="svg"),
        pytest.param(Reply(body=b"just text", headers={"Content-Type": "image/png"}), id="not-an-image"),
        pytest.param(Reply(status=404, body=PNG, headers={"Content-Type": "image/png"}), id="404"),
    ],
)
def test_an_oversized_or_non_image_icon_is_refused(timed: Lenta, server: LocalServer, reply: Reply) -> None:
    server.routes.update(
        {
            "/feed.xml": Reply(body=rss(image="/bad"), headers=RSS),
            "/": Reply(body=page('<link rel="icon" href="/bad">'), headers={"Content-Type": "text/html"}),
            "/bad": reply,
            "/favicon.ico": reply,
        }
    )
    feed_id = add_and_refresh(timed, server.url("/feed.xml"))
    summary = asyncio.run(timed.refresh_icons())
    assert (summary.tried, summary.found) == (1, 0)
    assert icon_paths(server) == ["/bad", "/", "/favicon.ico"]
    assert timed.feed_icon(feed_id) is None


def test_only_feeds_whose_refresh_succeeded_and_a_bounded_number_a_round(timed: Lenta, server: LocalServer, clock: Clock) -> None:
    server.routes["/favicon.ico"] = Reply(body=PNG, headers={"Content-Type": "image/png"})
    for n in range(5):
        server.routes[f"/{n}.xml"] = Reply(body=rss(), headers=RSS)
    ids = [add_and_refresh(timed, server.url(f"/{n}.xml")) for n in range(5)]
    broken = asyncio.run(timed.add_feed(server.url("/missing.xml"), discover=False)).id
    asyncio.run(timed.refresh([broken]))
    never = asyncio.run(timed.add_feed(server.url("/later.xml"), discover=False)).id  # never fetched
    first = asyncio.run(timed.refresh_icons(limit=3))
    second = asyncio.run(timed.refresh_icons(limit=3))
    third = asyncio.run(timed.refresh_icons(limit=3))
    assert (first.tried, second.tried, third.tried) == (3, 2, 0)
    assert set(timed.icon_versions([*ids, broken, never])) == set(ids)


# -- cached, served, refreshed ---------------------------------------------------


def test_icons_are_served_from_lenta_s_url_with_caching_headers_and_shown(
    timed: Lenta, server: LocalServer, settings: Settings
) -> None:
    server.routes.update(
        {
            "/feed.xml": Reply(body=rss(image="/logo.png"), headers=RSS),
            "/logo.png": Reply(body=PNG, headers={"Content-Type": "image/png"}),
            "/bare.xml": Reply(body=rss(link="/nowhere/"), headers=RSS),
        }
    )
    feed_id = add_and_refresh(timed, server.url("/feed.xml"))
    bare = add_and_refresh(timed, server.url("/bare.xml"))
    asyncio.run(timed.refresh_icons())
    icon_url = f"/aggregator/sources/{feed_id}/icon?v={digest(PNG)}"
    with AppServer(create_app(settings, timed)) as web, httpx.Client(base_url=web.url("")) as http:
        served = http.get(icon_url)
        unversioned = http.get(f"/aggregator/sources/{feed_id}/icon")
        again = http.get(icon_url, headers={"If-None-Match": served.headers["etag"]})
        missing = http.get(f"/aggregator/sources/{bare}/icon")
        nonsense = http.get("/aggregator/sources/abc/icon")
        pages = {path: http.get(path).text for path in ("/aggregator", "/aggregator/sources", f"/aggregator/sources/{feed_id}")}
        pages["/aggregator/categories"] = http.get("/aggregator/categories").text
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["etag"] == f'"{digest(PNG)}"'
    assert "immutable" in served.headers["cache-control"]
    assert unversioned.status_code == 200 and unversioned.headers["cache-control"] == "public, max-age=86400"
    assert again.status_code == 304 and again.content == b""
    assert missing.status_code == 404 and nonsense.status_code == 404
    for path in ("/aggregator", "/aggregator/sources", f"/aggregator/sources/{feed_id}"):
        tree = parse_page(pages[path])
        icons = [img.get("src") for img in tree.cssselect("img.feed-icon-small")]
        assert icon_url in icons, path
        # The remote icon's URL is in no page: readers' browsers ask lenta only.
        assert server.url("/logo.png") not in pages[path], path
        assert f"/aggregator/sources/{bare}/icon" not in pages[path], path
    river = parse_page(pages["/aggregator"])
    meta = river.cssselect(f"article.feed-item .feed-item-meta img[src='{icon_url}']")
    assert meta and meta[0].get("alt") == ""
    title = parse_page(pages[f"/aggregator/sources/{feed_id}"]).cssselect("title")[0].text_content()
    assert title.startswith("Iconic |") and "<img" not in title
    # A feed only readers follow is not the site's: neither its page nor its icon.
    timed.publish_feed(feed_id, False)
    with AppServer(create_app(settings, timed)) as web, httpx.Client(base_url=web.url("")) as http:
        assert http.get(f"/aggregator/sources/{feed_id}").status_code == 404
        assert http.get(icon_url).status_code == 404
    assert timed.feed_icon(feed_id) is not None  # still the readers' and the sync APIs'


def test_icons_are_fetched_again_after_a_week(timed: Lenta, server: LocalServer, clock: Clock) -> None:
    server.routes.update(
        {
            "/feed.xml": Reply(body=rss(image="/logo.png"), headers=RSS),
            "/logo.png": Reply(body=PNG, headers={"Content-Type": "image/png"}),
        }
    )
    feed_id = add_and_refresh(timed, server.url("/feed.xml"))
    asyncio.run(timed.refresh_icons())
    assert icon_paths(server) == ["/logo.png"]
    server.routes["/logo.png"] = Reply(body=PIXEL, headers={"Content-Type": "image/png"})
    clock.now = T0 + timedelta(days=6, hours=23)
    assert asyncio.run(timed.refresh_icons()).tried == 0  # not a week yet
    assert icon_paths(server) == ["/logo.png"]
    clock.now = T0 + timedelta(days=7)
    assert asyncio.run(timed.refresh_icons()).found == 1
    icon = timed.feed_icon(feed_id)
    assert icon is not None and icon.data == PIXEL and icon.fetched_at == clock.now
    assert timed.icon_versions([feed_id]) == {feed_id: digest(PIXEL)}  # a new icon, a new URL

    # A week later the site is broken: the icon there was stays.
    server.routes["/logo.png"] = Reply(status=500)
    clock.now = T0 + timedelta(days=14)
    assert asyncio.run(timed.refresh_icons()).tried == 1
    icon = timed.feed_icon(feed_id)
    assert icon is not None and icon.data == PIXEL and icon.fetched_at == T0 + timedelta(days=7)
    # Tried just now: not again before another week.
    clock.now = T0 + timedelta(days=16)
    assert asyncio.run(timed.refresh_icons()).tried == 0


def test_a_feed_without_an_icon_is_tried_again_a_day_later(timed: Lenta, server: LocalServer, clock: Clock) -> None:
    server.routes["/feed.xml"] = Reply(body=rss(), headers=RSS)
    feed_id = add_and_refresh(timed, server.url("/feed.xml"))
    assert asyncio.run(timed.refresh_icons()).tried == 1
    assert timed.feed_icon(feed_id) is None
    server.routes["/favicon.ico"] = Reply(body=GIF, headers={"Content-Type": "image/gif"})
    clock.now = T0 + timedelta(hours=23)
    assert asyncio.run(timed.refresh_icons()).tried == 0
    clock.now = T0 + timedelta(days=1)
    assert asyncio.run(timed.refresh_icons()).found == 1
    icon = timed.feed_icon(feed_id)
    assert icon is not None and icon.data == GIF


def test_the_refresher_fetches_icons_after_its_round(timed: Lenta, server: LocalServer) -> None:
    from lenta.scheduler import run_forever

    server.routes.update(
        {
            "/feed.xml": Reply(body=rss(image="/logo.png"), headers=RSS),
            "/logo.png": Reply(body=PNG, headers={"Content-Type": "image/png"}),
        }
    )
    feed_id = asyncio.run(timed.add_feed(server.url("/feed.xml"), discover=False)).id

    async def one_round() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run_forever(timed, stop=stop))
        for _ in range(500):
            if timed.icon_versions([feed_id]):
                break
            await asyncio.sleep(0.02)
        stop.set()
        await task

    asyncio.run(one_round())
    assert timed.icon_versions([feed_id]) == {feed_id: digest(PNG)}
    assert server.paths[-1] == "/logo.png"


def test_a_stopping_refresher_does_not_wait_for_icons(timed: Lenta, server: LocalServer) -> None:
    import time

    from lenta.scheduler import run_forever

    server.routes.update(
        {
            "/feed.xml": Reply(body=rss(image="/slow.png"), headers=RSS),
            "/slow.png": Reply(body=PNG, headers={"Content-Type": "image/png"}, delay=8.0),
        }
    )
    feed_id = asyncio.run(timed.add_feed(server.url("/feed.xml"), discover=False)).id

    async def stop_during_the_icon_step() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(run_forever(timed, stop=stop))
        for _ in range(500):
            if "/slow.png" in server.paths:
                break
            await asyncio.sleep(0.02)
        started = time.monotonic()
        stop.set()
        await task
        return time.monotonic() - started

    assert asyncio.run(stop_during_the_icon_step()) < 2.0  # not the icon's 8 s, nor the step's 20
    assert timed.feed_icon(feed_id) is None


# -- storage, on both backends ---------------------------------------------------------


def test_icon_storage(storage: Storage) -> None:
    from lenta.exceptions import FetchErrorKind
    from lenta.storage.records import FeedChanges

    feeds = [storage.feeds.add(f"https://example.com/{n}.xml", now=T0) for n in range(3)]
    for feed in feeds[:2]:
        storage.feeds.change(feed.id, FeedChanges(checked_at=T0, image_url="https://example.com/i.png"))
    assert [t.feed_id for t in storage.icons.due(T0, 10)] == [feeds[0].id, feeds[1].id]  # never checked: not yet
    storage.icons.put(feeds[0].id, T0, PNG, "image/png", digest(PNG), "https://example.com/i.png")
    storage.icons.tried(feeds[1].id, T0)
    assert storage.icons.due(T0 + timedelta(hours=1), 10) == []
    assert [t.feed_id for t in storage.icons.due(T0 + timedelta(days=1), 10)] == [feeds[1].id]
    assert [t.feed_id for t in storage.icons.due(T0 + timedelta(days=7), 10)] == [feeds[0].id, feeds[1].id]
    assert storage.icons.due(T0 + timedelta(days=7), 1)[0].image_url == "https://example.com/i.png"
    # A try that finds nothing keeps the icon there was.
    storage.icons.tried(feeds[0].id, T0 + timedelta(days=7))
    icon = storage.icons.get(feeds[0].id)
    assert icon is not None and icon.data == PNG and icon.fetched_at == T0
    assert storage.icons.get(feeds[1].id) is None
    assert storage.icons.versions(f.id for f in feeds) == {feeds[0].id: digest(PNG)}
    # A failing feed's icon waits for the feed to work again.
    storage.feeds.change(feeds[1].id, FeedChanges(error="boom", error_kind=FetchErrorKind.NETWORK))
    assert [t.feed_id for t in storage.icons.due(T0 + timedelta(days=30), 10)] == [feeds[0].id]
    storage.feeds.delete(feeds[0].id)
    assert storage.icons.get(feeds[0].id) is None  # deleted with its feed
