"""The personal reader in a real browser (Debian's chromium driven by
Playwright): a reader signs in, follows a feed and reads with the keyboard
only (reader.js: j/k, m, s, o, n, r, g u / g a / g s); "Mark all as read"
leaves what arrived after the page was shown; the pages speak Russian; no
reader page scrolls sideways on a phone, whatever the feed puts in it; no
page breaks the Content-Security-Policy, and reader.js loads and runs on
every one."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from typing import TypeVar
from xml.sax.saxutils import escape

import pytest
from httpserver import LocalServer
from httpserver import Reply
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect
from test_browser import CHROMIUM
from test_browser import CHROMIUM_ARGS
from test_browser import PIXEL
from test_browser import csp_violations
from test_layout import ARTIFACTS
from test_layout import DESKTOP
from test_layout import LONG_PATH
from test_layout import LONG_WORD
from test_layout import NOW
from test_layout import PHONE
from test_layout import overflow
from test_layout import wide_content
from test_reader import RSS
from test_reader import feed_xml
from test_web import PASSWORD
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.web import create_app

pytestmark = pytest.mark.browser

READER = "ann"  # a reader, not an admin
T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)`` in a thread of its own: Playwright's sync
    API keeps an event loop running in the test's thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@dataclass
class Site:
    web: AppServer
    feeds: LocalServer  # /alpha.xml: Alpha 1..5, an hour apart (Alpha 5 newest)


@pytest.fixture
def site(lenta: Lenta, settings: Settings) -> Iterator[Site]:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    lenta.add_user(READER, PASSWORD)
    routes = {"/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 6)), headers=RSS)}
    with LocalServer(routes) as feeds, AppServer(create_app(settings, lenta)) as web:
        yield Site(web, feeds)


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Tab:
    """A page and what went wrong on it: policy violations, uncaught script errors."""

    page: Page
    violations: list[str]
    script_errors: list[str] = field(default_factory=list)


@contextmanager
def tab(browser: Browser, locale: str = "en-US", width: int = DESKTOP) -> Iterator[Tab]:
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        opened = Tab(page, csp_violations(page))
        page.on("pageerror", lambda error: opened.script_errors.append(str(error)))
        yield opened
    finally:
        context.close()


def sign_in(page: Page, web: AppServer) -> None:
    """Through the login form, asking for no page: a reader lands on their unread items."""
    page.goto(web.url("/user/login"))
    page.fill("#edit-name", READER)
    page.fill("#edit-pass", PASSWORD)
    page.click("#edit-submit")
    page.wait_for_url(web.url("/reader"))


def follow(page: Page, web: AppServer, url: str) -> int:
    """Follows ``url`` through the subscriptions form; the subscription's id."""
    page.goto(web.url("/reader/subscriptions"))
    page.fill("#edit-url", url)
    page.click("form.reader-follow button[type=submit]")
    page.wait_for_url(re.compile(r".*/reader/feeds/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def listed(page: Page) -> list[str]:
    """The titles of the items the page lists, in order."""
    return [text.strip() for text in page.locator("article[data-item] .reader-item-title").all_inner_texts()]


def item_id(page: Page, title: str) -> int:
    return int(page.locator("article[data-item]", has_text=title).get_attribute("data-item") or "")


def current(page: Page) -> list[str]:
    """The titles of the selected items (j/k): one at most."""
    return [text.strip() for text in page.locator("article.is-current .reader-item-title").all_inner_texts()]


def unread_total(page: Page) -> str:
    return page.inner_text(".reader-views .unread-count").strip()


def keys(page: Page, *pressed: str) -> None:
    for key in pressed:
        page.keyboard.press(key)


def has_class(name: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){name}(\s|$)")


def test_a_reader_signs_in_follows_a_feed_and_reads_with_the_keyboard(site: Site, browser: Browser) -> None:
    web = site.web
    with tab(browser) as opened:
        page = opened.page
        sign_in(page, web)
        assert "You follow no feeds yet." in page.inner_text(".reader-nav")
        follow(page, web, site.feeds.url("/alpha.xml"))

        keys(page, "g", "u")
        page.wait_for_url(web.url("/reader"))
        assert listed(page) == ["Alpha 5", "Alpha 4", "Alpha 3", "Alpha 2", "Alpha 1"]
        assert unread_total(page) == "5"
        assert current(page) == []

        keys(page, "j")
        assert current(page) == ["Alpha 5"]
        keys(page, "j", "j")
        assert current(page) == ["Alpha 3"]
        keys(page, "k", "k")
        assert current(page) == ["Alpha 5"]
        keys(page, "k")  # no further up than the first
        assert current(page) == ["Alpha 5"]

        # m marks the selected item read in place: the same document, no reload.
        page.evaluate("window.sameDocument = true")
        first = page.locator(f"#item-{item_id(page, 'Alpha 5')}")
        keys(page, "m")
        expect(first).to_have_class(has_class("is-read"))
        expect(first.locator("button[data-action=m]")).to_have_text("Mark as unread")
        assert page.evaluate("window.sameDocument") is True
        assert page.locator("article.is-read").count() == 1
        # m again undoes it; a third time marks it read for good.
        keys(page, "m")
        expect(first).not_to_have_class(has_class("is-read"))
        expect(first.locator("button[data-action=m]")).to_have_text("Mark as read")
        keys(page, "m")
        expect(first).to_have_class(has_class("is-read"))

        # r reloads: the item is gone from the unread list and counted read.
        with page.expect_navigation():
            keys(page, "r")
        assert page.evaluate("window.sameDocument") is None
        assert listed(page) == ["Alpha 4", "Alpha 3", "Alpha 2", "Alpha 1"]
        assert unread_total(page) == "4"

        keys(page, "j")
        assert current(page) == ["Alpha 4"]
        starred = item_id(page, "Alpha 4")
        keys(page, "s")
        expect(page.locator(f"#item-{starred}")).to_have_class(has_class("is-starred"))
        expect(page.locator(f"#item-{starred} button[data-action=s]")).to_have_text("Unstar")

        keys(page, "o")
        page.wait_for_url(web.url(f"/reader/items/{starred}?view=unread"))
        assert page.inner_text("h1#page-title") == "Alpha 4"
        assert unread_total(page) == "3"  # read on open
        next_one = page.get_attribute("a[rel=next]", "href")
        assert next_one is not None and next_one.startswith("/reader/items/")

        keys(page, "n")
        page.wait_for_url(web.url(next_one))
        assert page.inner_text("h1#page-title") == "Alpha 3"

        keys(page, "g", "s")
        page.wait_for_url(web.url("/reader/starred"))
        assert listed(page) == ["Alpha 4"]

        keys(page, "g", "a")
        page.wait_for_url(web.url("/reader/all"))
        assert len(listed(page)) == 5
        assert page.locator("article.is-read").count() == 3  # Alpha 5 by m, Alpha 4 and 3 opened
    assert opened.violations == []
    assert opened.script_errors == []


def test_mark_all_read_leaves_an_item_that_arrived_after_the_page_was_shown(site: Site, browser: Browser, lenta: Lenta) -> None:
    web = site.web
    with tab(browser) as opened:
        page = opened.page
        sign_in(page, web)
        follow(page, web, site.feeds.url("/alpha.xml"))
        page.goto(web.url("/reader"))
        assert listed(page) == ["Alpha 5", "Alpha 4", "Alpha 3", "Alpha 2", "Alpha 1"]
        assert page.locator(".messages").count() == 0

        # While the page is open, the feed gains an item and lenta fetches it.
        site.feeds.routes["/alpha.xml"] = Reply(body=feed_xml("Alpha", range(1, 7)), headers=RSS)
        run_apart(lenta.refresh(all_feeds=True))

        page.click("button:has-text('Mark all as read')")
        expect(page.locator(".messages")).to_contain_text("Marked as read.")
        assert page.url == web.url("/reader")
        assert listed(page) == ["Alpha 6"]
        assert unread_total(page) == "1"
        page.goto(web.url("/reader/all"))
        assert listed(page)[0] == "Alpha 6"
        assert page.locator("article.is-read").count() == 5
        assert page.locator(f"#item-{item_id(page, 'Alpha 6')}.is-read").count() == 0
    assert opened.violations == []


def test_the_reader_speaks_russian(site: Site, browser: Browser) -> None:
    web = site.web
    with tab(browser, locale="ru-RU") as opened:
        page = opened.page
        sign_in(page, web)
        assert "Вы пока не подписаны ни на одну ленту." in page.inner_text(".reader-nav")
        follow(page, web, site.feeds.url("/alpha.xml"))
        page.goto(web.url("/reader"))
        assert page.inner_text("h1#page-title") == "Непрочитанное"
        views = page.inner_text(".reader-views")
        for russian in ("Непрочитанное", "Все записи", "Избранное", "Подписки"):
            assert russian in views, russian
        assert "Unread" not in views and "Starred" not in views
        assert page.inner_text(".reader-tools button") == "Отметить всё как прочитанное"
        # The buttons the script flips say the new state in Russian too.
        first = page.locator("article[data-item]").first
        assert first.locator("button[data-action=m]").inner_text() == "Отметить как прочитанное"
        keys(page, "j", "m", "s")
        expect(first.locator("button[data-action=m]")).to_have_text("Отметить как непрочитанное")
        expect(first.locator("button[data-action=s]")).to_have_text("Убрать из избранного")
        page.goto(web.url("/reader/subscriptions"))
        assert page.inner_text("h1#page-title") == "Подписки"
        assert page.inner_text("form.reader-follow button[type=submit]") == "Подписаться"
    assert opened.violations == []


def wide_feed(images: str, count: int) -> bytes:
    """A feed made to be wide in every way (tests/test_layout.py's content), a few items."""
    items = "".join(
        f"<item><title>{LONG_WORD} {n}</title><link>https://example.com/{'z' * 150}/{n}</link><guid>w{n}</guid>"
        f"<pubDate>{format_datetime(NOW - timedelta(hours=n), usegmt=True)}</pubDate>"
        f"<author>{LONG_WORD}@example.com ({LONG_WORD})</author>"
        f"<description>{escape(wide_content(images))}</description></item>"
        for n in range(1, count + 1)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{LONG_WORD}</title>'
        f"<link>https://example.com/{'w' * 200}</link>{items}</channel></rss>"
    ).encode()


@pytest.mark.parametrize("locale", ["ru-RU", "en-US"])
def test_no_reader_page_scrolls_sideways_on_a_phone(lenta: Lenta, settings: Settings, browser: Browser, locale: str) -> None:
    reader = lenta.reader(lenta.add_user(READER, PASSWORD))
    routes = {"/pixel.png": Reply(body=PIXEL, headers={"Content-Type": "image/png"})}
    with LocalServer(routes) as server:
        server.routes[LONG_PATH] = Reply(body=wide_feed(server.base_url, 3), headers=RSS)
        folder = reader.add_folder(LONG_WORD)
        reader.add_folder(LONG_WORD + " 2", parent_id=reader.add_folder(LONG_WORD + " 1", parent_id=folder.id).id)
        followed = run_apart(reader.follow(server.url(LONG_PATH), folder_ids=[folder.id]))
        with AppServer(create_app(settings, lenta)) as web:
            first = reader.items("unread", per_page=1).items[0].item.id
            pages = {
                "river": "/reader",
                "feed": f"/reader/feeds/{followed.id}",
                "item": f"/reader/items/{first}",
                "subscriptions": "/reader/subscriptions",
            }
            wide: dict[str, object] = {}
            for width in (PHONE, DESKTOP):
                with tab(browser, locale=locale, width=width) as opened:
                    sign_in(opened.page, web)
                    for name, path in pages.items():
                        found = overflow(opened.page, web.url(path))
                        if found.scroll_width > width:
                            wide[f"{path} at {width} px"] = found
                        if name != "feed":
                            shot = ARTIFACTS / f"lenta-reader-{width}-{name}-{locale}.png"
                            opened.page.screenshot(path=str(shot), full_page=False)
                assert opened.violations == []
    assert wide == {}, "\n".join(f"{path}: {found}" for path, found in wide.items())


def test_reader_pages_keep_the_policy_and_run_reader_js(site: Site, browser: Browser, lenta: Lenta) -> None:
    """Every reader page: no policy violation, no script error, reader.js
    fetched from this site and listening (g a leads to all items)."""
    web = site.web
    with tab(browser) as opened:
        page = opened.page
        scripts: list[tuple[str, int]] = []
        page.on(
            "response", lambda response: scripts.append((response.url, response.status)) if "reader.js" in response.url else None
        )
        sign_in(page, web)
        subscription = follow(page, web, site.feeds.url("/alpha.xml"))
        page.goto(web.url("/reader/subscriptions"))
        page.fill("#edit-name", "News")
        page.click("form.reader-folder-add button[type=submit]")
        page.wait_for_url(web.url("/reader/subscriptions"))
        folder = int((page.get_attribute(".reader-folders a", "href") or "").rsplit("/", 1)[1])
        page.goto(web.url("/reader"))
        item = item_id(page, "Alpha 5")
        paths = [
            "/reader",
            "/reader/all",
            "/reader/starred",
            f"/reader/feeds/{subscription}",
            f"/reader/feeds/{subscription}?view=all&order=oldest",
            f"/reader/folders/{folder}",
            f"/reader/items/{item}",
            "/reader/subscriptions",
        ]
        for path in paths:
            scripts.clear()
            response = page.goto(web.url(path))
            assert response is not None and response.status == 200, path
            assert scripts in ([(web.url("/static/reader.js"), 200)], [(web.url("/static/reader.js"), 304)]), path
            with page.expect_navigation(url=web.url("/reader/all")):
                keys(page, "g", "a")
        # And its actions post with the page's token, which the policy allows (form-action, connect-src).
        page.goto(web.url("/reader/all"))
        keys(page, "j", "s")
        expect(page.locator("article.is-current")).to_have_class(has_class("is-starred"))
        page.goto(web.url("/reader/starred"))
        assert listed(page) == ["Alpha 5"]
    assert opened.violations == []
    assert opened.script_errors == []
