"""The admin UI in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpserver import LocalServer
from httpserver import Reply
from test_web import PASSWORD
from test_web import feed_xml
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.web import create_app

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("LENTA_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="ru-RU")
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_an_admin_signs_in_adds_a_feed_updates_it_and_reads_it(browser_page: object, lenta: Lenta,
                                                               settings: Settings) -> None:
    from playwright.sync_api import Page

    page: Page = browser_page  # type: ignore[assignment]
    lenta.add_user("admin", PASSWORD, is_admin=True)
    with LocalServer({"/feed.xml": Reply(body=feed_xml(25), headers={"Content-Type": "application/rss+xml"})}) as feeds, \
            AppServer(create_app(settings, lenta)) as web:
        page.goto(web.url("/admin/config/services/aggregator"))
        assert page.url.startswith(web.url("/user/login"))
        page.fill("#edit-name", "admin")
        page.fill("#edit-pass", PASSWORD)
        page.click("#edit-submit")
        page.wait_for_url(web.url("/admin/config/services/aggregator"))
        assert page.inner_text("h1#page-title") == "Сборщик RSS-лент"

        page.click("text=Добавить ленту")
        page.fill("#edit-url", feeds.url("/feed.xml"))
        page.select_option("#edit-refresh", "3600")
        page.click("#edit-submit")
        page.wait_for_url(web.url("/admin/config/services/aggregator"))
        assert "добавлена" in page.inner_text(".messages")

        page.click("button:has-text('обновить записи')")
        page.wait_for_url(web.url("/admin/config/services/aggregator"))
        assert "25 записей" in page.inner_text("tr.feed-row")

        page.goto(web.url("/aggregator"))
        assert page.locator("article.feed-item").count() == 20
        assert page.locator("article.feed-item h3").first.inner_text() == "Item 1"
        page.click("ul.pager li.pager-next a")
        page.wait_for_url(web.url("/aggregator?page=1"))
        assert page.locator("article.feed-item").count() == 5
        assert page.inner_text("ul.pager li.pager-current") == "2"
        page.screenshot(path=str(Path(os.environ.get("LENTA_TEST_ARTIFACTS", "/tmp")) / "lenta-aggregator.png"))
