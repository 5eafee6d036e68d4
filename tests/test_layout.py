"""Every page works on a phone (issue 10): at a 390 px wide viewport no page
of the site, public or admin, scrolls sideways, whatever the feeds put in
it (long titles, unbroken URLs and words, wide ``<pre>``, big images, wide
tables, players); the admin feed table fits a 1280 px screen. Checked in
chromium, in Russian (longer words) and English."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from httpserver import LocalServer
from httpserver import Reply
from test_browser import CHROMIUM
from test_browser import CHROMIUM_ARGS
from test_browser import PIXEL
from test_web import ADMIN
from test_web import PASSWORD
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.web import create_app

pytestmark = pytest.mark.browser

PHONE = 390
DESKTOP = 1280
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
LONG_WORD = "Сверхдлинноесловобезединогопробела" * 4
LONG_PATH = "/" + "a-very-long-path-segment-without-any-break" * 3 + ".xml"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ARTIFACTS = Path(os.environ.get("LENTA_TEST_ARTIFACTS", "/tmp"))


def wide_content(images: str) -> str:
    """An item body made to be wide in every way a feed can."""
    cells = "".join(f"<td>column{n}column{n}</td>" for n in range(30))
    return (
        f"<p>{LONG_WORD} https://example.com/{'x' * 300}</p>"
        f"<pre>{'wide_code_line = ' + 'x' * 400}</pre>"
        f'<p><img src="{images}/pixel.png" width="2000" height="600" alt="big"></p>'
        f"<table><tr>{cells}</tr></table>"
        f"<p><code>{'unbroken_identifier_' * 20}</code></p>"
        f'<p><a href="https://example.com/{"y" * 200}">https://example.com/{"y" * 200}</a></p>'
        f'<p><video src="{images}/clip.webm" width="1200" controls></video></p>'
    )


def feed(images: str, title: str, count: int) -> bytes:
    items = "".join(
        f"<item><title>{LONG_WORD} {n}</title><link>https://example.com/{'z' * 150}/{n}</link><guid>g{n}</guid>"
        f"<pubDate>{format_datetime(NOW - timedelta(hours=n), usegmt=True)}</pubDate>"
        f"<description>{escape(wide_content(images))}</description>"
        f"<category>{LONG_WORD}</category>"
        f'<enclosure url="{images}/{"episode-" * 20}.mp3" type="audio/mpeg" length="123456789"/>'
        "</item>"
        for n in range(1, count + 1)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.com/{'w' * 200}</link><description>{LONG_WORD} {LONG_WORD}</description>"
        f"{items}</channel></rss>"
    ).encode()


@pytest.fixture
def wide_site(lenta: Lenta, settings: Settings) -> Iterator[tuple[AppServer, dict[str, int]]]:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    lenta.settings = settings.replace(fetch_timeout=1.0, fetch_deadline=2.0)
    routes = {
        "/pixel.png": Reply(body=PIXEL, headers={"Content-Type": "image/png"}),
        "/missing.xml": Reply(status=404, body=b"no"),
    }
    with LocalServer(routes) as server:
        server.routes[LONG_PATH] = Reply(body=feed(server.base_url, LONG_WORD, 25), headers=RSS)
        server.routes["/short.xml"] = Reply(body=feed(server.base_url, "Short", 2), headers=RSS)
        category = lenta.add_category(LONG_WORD)
        ids = {
            "long": asyncio.run(lenta.add_feed(server.url(LONG_PATH), discover=False, category_ids=[category.id])).id,
            "short": asyncio.run(lenta.add_feed(server.url("/short.xml"), discover=False)).id,
            "broken": asyncio.run(
                lenta.add_feed(server.url("/missing.xml") + "?" + "q=" + "k" * 200, discover=False, category_ids=[category.id])
            ).id,
        }
        ids["category"] = category.id
        asyncio.run(lenta.refresh(all_feeds=True))
        with AppServer(create_app(settings, lenta)) as web:
            yield web, ids


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def public_paths(ids: dict[str, int]) -> list[str]:
    return [
        "/aggregator",
        "/aggregator?page=1",
        "/aggregator/sources",
        f"/aggregator/sources/{ids['long']}",
        f"/aggregator/sources/{ids['broken']}",
        "/aggregator/categories",
        f"/aggregator/categories/{ids['category']}",
        "/user/login",
        "/no/such/page",
    ]


def admin_paths(ids: dict[str, int]) -> list[str]:
    return [
        ADMIN,
        f"{ADMIN}?sort=health",
        f"{ADMIN}/add/feed",
        f"{ADMIN}/edit/feed/{ids['long']}",
        f"{ADMIN}/edit/feed/{ids['long']}/delete",
        f"{ADMIN}/remove/{ids['long']}",
        f"{ADMIN}/health/{ids['long']}",
        f"{ADMIN}/health/{ids['broken']}",
        f"{ADMIN}/add/category",
        f"{ADMIN}/edit/category/{ids['category']}",
        f"{ADMIN}/add/opml",
        f"{ADMIN}/settings",
        "/admin/people",
        "/admin/people/add",
        "/admin/people/1/edit",
    ]


@dataclass(frozen=True)
class Width:
    scroll_width: int  # document.documentElement.scrollWidth: more than the viewport is a sideways scroll
    sticking_out: list[str]  # elements past the viewport's right edge, to say which (tag.class right)


# Elements reaching past the viewport's right edge (the first few), to name the culprits.
_STICKING_OUT = """() => {
    const width = document.documentElement.clientWidth;
    const out = [];
    for (const element of document.querySelectorAll('body *')) {
        const right = element.getBoundingClientRect().right;
        if (right > width + 0.5) out.push(`${element.tagName.toLowerCase()}.${element.className} ${Math.round(right)}`);
    }
    return out.slice(0, 8);
}"""


def overflow(page: object, url: str) -> Width:
    """How wide the page at ``url`` is."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    response = page.goto(url)
    assert response is not None and response.status in (200, 404), url
    page.wait_for_load_state("load")
    return Width(int(page.evaluate("document.documentElement.scrollWidth")), list(page.evaluate(_STICKING_OUT)))


def sign_in(page: object, web: AppServer) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.goto(web.url("/user/login"))
    page.fill("#edit-name", "admin")
    page.fill("#edit-pass", PASSWORD)
    page.click("#edit-submit")
    page.wait_for_url(web.url(ADMIN))


@pytest.mark.parametrize("locale", ["ru-RU", "en-US"])
def test_no_page_scrolls_sideways_at_390_px(wide_site: tuple[AppServer, dict[str, int]], browser: object, locale: str) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    web, ids = wide_site
    context = browser.new_context(viewport={"width": PHONE, "height": 844}, locale=locale, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        wide: dict[str, Width] = {}
        for path in public_paths(ids):
            found = overflow(page, web.url(path))
            if found.scroll_width > PHONE:
                wide[path] = found
        sign_in(page, web)
        for path in public_paths(ids) + admin_paths(ids):  # signed in, the menu has more links
            found = overflow(page, web.url(path))
            if found.scroll_width > PHONE:
                wide[f"{path} (admin)"] = found
        for name, path in (("river", "/aggregator"), ("admin", ADMIN)):  # for a person to look at
            page.goto(web.url(path))
            page.screenshot(path=str(ARTIFACTS / f"lenta-390-{name}-{locale}.png"), full_page=False)
    finally:
        context.close()
    assert wide == {}, "\n".join(f"{path}: {found}" for path, found in wide.items())


def test_the_admin_feed_table_fits_1280_px(wide_site: tuple[AppServer, dict[str, int]], browser: object) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    web, ids = wide_site
    context = browser.new_context(viewport={"width": DESKTOP, "height": 900}, locale="ru-RU")
    try:
        page = context.new_page()
        sign_in(page, web)
        found = overflow(page, web.url(ADMIN))
        page.screenshot(path=str(ARTIFACTS / "lenta-1280-admin.png"), full_page=False)
        # The table itself fits its column: no scrolling inside it either.
        table = page.evaluate(
            "(() => { const t = document.querySelector('table.feeds'); const w = t.parentElement;"
            " return [t.getBoundingClientRect().right, w.getBoundingClientRect().right, w.scrollWidth, w.clientWidth]; })()"
        )
    finally:
        context.close()
    assert found.scroll_width <= DESKTOP, found
    right, container_right, scroll_width, client_width = table
    assert right <= container_right + 0.5 and scroll_width <= client_width, table
