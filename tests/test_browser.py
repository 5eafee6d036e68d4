"""The admin UI in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpserver import LocalServer
from httpserver import Reply
from jinja2 import ChoiceLoader
from jinja2 import DictLoader
from starlette.routing import Route
from test_web import PASSWORD
from test_web import feed_xml
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.web import create_app
from lenta.web.render import render

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("LENTA_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A 1x1 PNG: feed content embeds remote images, which the Content-Security-Policy lets through.
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def csp_violations(page: object) -> list[str]:
    """Collects what chromium reports of the Content-Security-Policy on ``page``, as it happens."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None)
    return found


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


def test_an_admin_signs_in_adds_a_feed_updates_it_and_reads_it(browser_page: object, lenta: Lenta, settings: Settings) -> None:
    from playwright.sync_api import Page

    page: Page = browser_page  # type: ignore[assignment]
    violations = csp_violations(page)
    lenta.add_user("admin", PASSWORD, is_admin=True)
    with LocalServer({"/pixel.png": Reply(body=PIXEL, headers={"Content-Type": "image/png"})}) as images:
        feed = feed_xml(25).replace(
            b"&lt;p&gt;Body of Item 1&lt;/p&gt;",
            f'&lt;p&gt;Body of Item 1 &lt;img src="{images.url("/pixel.png")}" alt="pixel"&gt;&lt;/p&gt;'.encode(),
        )
        with (
            LocalServer({"/feed.xml": Reply(body=feed, headers={"Content-Type": "application/rss+xml"})}) as feeds,
            AppServer(create_app(settings, lenta)) as web,
        ):
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
            # The feed's remote image is shown, and the page's own stylesheet applies.
            page.wait_for_function("document.querySelector('.feed-item-body img').complete")
            assert page.evaluate("document.querySelector('.feed-item-body img').naturalWidth") == 1
            assert page.evaluate("getComputedStyle(document.querySelector('.element-invisible')).position") == "absolute"
            page.click("ul.pager li.pager-next a")
            page.wait_for_url(web.url("/aggregator?page=1"))
            assert page.locator("article.feed-item").count() == 5
            assert page.inner_text("ul.pager li.pager-current") == "2"
            page.screenshot(path=str(Path(os.environ.get("LENTA_TEST_ARTIFACTS", "/tmp")) / "lenta-aggregator.png"))

            admin = "/admin/config/services/aggregator"
            for path in (
                "/aggregator/sources",
                "/aggregator/sources/1",
                "/aggregator/categories",
                "/no/such/page",
                f"{admin}/edit/feed/1",
                f"{admin}/add/category",
                f"{admin}/add/opml",
                f"{admin}/settings",
                f"{admin}/health/1",
                f"{admin}/remove/1",
            ):
                page.goto(web.url(path))
                assert page.locator("h1#page-title").count() == 1, path
    assert violations == []


def test_chromium_enforces_the_policy(browser_page: object, lenta: Lenta, settings: Settings) -> None:
    """The policy as a browser applies it: a script with the response's
    nonce runs, one without is refused and reported (what the test above
    counts on seeing), remote images load."""
    from playwright.sync_api import Page

    page: Page = browser_page  # type: ignore[assignment]
    violations = csp_violations(page)
    app = create_app(settings, lenta)
    app.state.templates.loader = ChoiceLoader(
        [
            app.state.templates.loader,
            DictLoader(
                {
                    "check.html": (
                        '{% extends "base.html" %}{% block content %}<img id="remote" src="{{ image }}" alt="">'
                        '<script nonce="{{ csp_nonce }}">document.body.dataset.nonced = "ran";</script>'
                        '<script>document.body.dataset.bare = "ran";</script>{% endblock %}'
                    )
                }
            ),
        ]
    )
    with LocalServer({"/pixel.png": Reply(body=PIXEL, headers={"Content-Type": "image/png"})}) as images:
        app.router.routes.append(
            Route("/check", lambda request: render(request, "check.html", {"image": images.url("/pixel.png")}))
        )
        with AppServer(app) as web:
            page.goto(web.url("/check"))
            page.wait_for_function("document.getElementById('remote').complete")
            ran = page.evaluate("[document.body.dataset.nonced, document.body.dataset.bare]")
            width = page.evaluate("document.getElementById('remote').naturalWidth")
    assert ran == ["ran", None]
    assert width == 1
    assert len(violations) == 1 and "script-src" in violations[0]
