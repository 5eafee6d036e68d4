"""More of the personal reader in a real browser (Debian's chromium driven
by Playwright), after tests/test_reader_browser.py: signing in with a
second factor (TOTP codes made here with pyotp); searching Russian items
from the navigation's box ("/" focuses it) with the words' other forms; a
rule previewed on the items there and acting on the next refresh; a saved
view published and read, anonymously, as a page and as RSS, Atom and JSON
Feed; Russian and a dark theme chosen in the user's settings (and the
device's dark mode followed); and screenshots of the pages at a phone's
width and a desktop's, none of them scrolling sideways on the phone."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin
from xml.sax.saxutils import escape

import pyotp
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
from test_reader import RSS
from test_reader import feed_xml
from test_reader_browser import READER
from test_reader_browser import follow
from test_reader_browser import listed
from test_reader_browser import run_apart
from test_reader_browser import sign_in
from test_reader_browser import wide_feed
from test_web import PASSWORD
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.parse.formats import parse_feed
from lenta.types import User
from lenta.web import create_app

pytestmark = pytest.mark.browser

Scheme = Literal["light", "dark", "no-preference"]

# A Russian feed: «лента» in three of its forms, two words that only start like it, and the weather.
LENTA_FORMS = ["Новая лента новостей", "Статья о лентах", "Красной лентой отмечено"]
NOT_LENTA = ["Ленточный конвейер", "Лентяй отдыхает", "Погода на завтра"]
RUSSIAN = LENTA_FORMS + NOT_LENTA


def russian_xml(titles: list[str]) -> bytes:
    """An RSS feed of ``titles``, the first newest, an hour apart; each body repeats its title."""
    items = "".join(
        f"<item><title>{escape(title)}</title><link>https://example.com/ru/{n}</link><guid>ru-{title}</guid>"
        f"<pubDate>{format_datetime(NOW - timedelta(hours=n), usegmt=True)}</pubDate>"
        f"<description>{escape(f'<p>{title}.</p>')}</description></item>"
        for n, title in enumerate(titles)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Русская лента</title>'
        f"<link>https://example.com/ru</link><language>ru</language>{items}</channel></rss>"
    ).encode()


@dataclass
class Site:
    web: AppServer
    feeds: LocalServer  # /alpha.xml: Alpha 1..5; /ru.xml: RUSSIAN
    reader: User


@pytest.fixture
def site(lenta: Lenta, settings: Settings) -> Iterator[Site]:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    reader = lenta.add_user(READER, PASSWORD)
    routes = {
        "/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 6)), headers=RSS),
        "/ru.xml": Reply(body=russian_xml(RUSSIAN), headers=RSS),
    }
    with LocalServer(routes) as feeds, AppServer(create_app(settings, lenta)) as web:
        yield Site(web, feeds, reader)


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
    page: Page
    violations: list[str]
    script_errors: list[str] = field(default_factory=list)


@contextmanager
def tab(browser: Browser, locale: str = "en-US", width: int = DESKTOP, color_scheme: Scheme = "light") -> Iterator[Tab]:
    """A fresh browser context (no cookies: nobody signed in) and a page in it."""
    context = browser.new_context(
        locale=locale, viewport={"width": width, "height": 900}, device_scale_factor=1, color_scheme=color_scheme
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        opened = Tab(page, csp_violations(page))
        page.on("pageerror", lambda error: opened.script_errors.append(str(error)))
        yield opened
    finally:
        context.close()


def signed_in_as(page: Page) -> bool:
    """Whether the header offers "Log out" (a session) rather than "Log in"."""
    return page.locator("#main-menu form[action='/user/logout']").count() == 1


def background_luminance(page: Page) -> float:
    """The relative luminance (WCAG, 0 black to 1 white) of the body's computed background."""
    colour = page.evaluate("getComputedStyle(document.body).backgroundColor")
    found = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", colour)
    assert found is not None, colour
    assert found.group(4) in (None, "1"), f"a see-through background says nothing of the theme: {colour}"

    def linear(channel: str) -> float:
        value = int(channel) / 255
        return value / 12.92 if value <= 0.03928 else float(((value + 0.055) / 1.055) ** 2.4)

    red, green, blue = (linear(found.group(n)) for n in (1, 2, 3))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def is_dark(page: Page) -> bool:
    luminance = background_luminance(page)
    assert luminance < 0.1 or luminance > 0.5, f"neither light nor dark: {luminance}"
    return luminance < 0.1


# -- 1. a second factor -------------------------------------------------------------


def wrong_code(secret: str, at: float) -> str:
    """Six digits no clock near ``at`` would take."""
    near = {pyotp.TOTP(secret).at(at + 30 * step) for step in range(-3, 4)}
    return next(code for code in ("000000", "111111", "123456", "987654") if code not in near)


def test_a_reader_turns_on_a_second_factor_and_signs_in_with_a_code(site: Site, browser: Browser) -> None:
    web = site.web
    with tab(browser) as opened:
        page = opened.page
        sign_in(page, web)
        page.goto(web.url("/user/settings"))
        assert "Off: signing in asks for the password only." in page.inner_text(".second-factor-summary")
        page.click(".second-factor-summary a")
        page.wait_for_url(web.url("/user/two-factor"))
        secret = page.inner_text(".totp-secret").strip()
        assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
        uri = pyotp.parse_uri(page.inner_text(".totp-uri").strip())
        assert isinstance(uri, pyotp.TOTP) and uri.secret == secret and uri.name == READER

        # A wrong code does not turn it on.
        page.fill("#edit-code", wrong_code(secret, time.time()))
        page.click("#edit-enable")
        expect(page.locator(".message-error")).to_contain_text("not right")
        assert page.locator(".totp-secret").inner_text().strip() == secret  # the same key, still to confirm

        page.fill("#edit-code", pyotp.TOTP(secret).now())
        page.click("#edit-enable")
        expect(page.locator("h1#page-title")).to_have_text("Recovery codes")
        codes = page.locator(".recovery-codes code").all_inner_texts()
        assert len(codes) == 10 and len(set(codes)) == 10
        page.goto(web.url("/user/settings"))
        assert "On: signing in asks for a code" in page.inner_text(".second-factor-summary")

        page.click("#main-menu form[action='/user/logout'] button")
        page.wait_for_url(web.url("/aggregator"))
        assert not signed_in_as(page)
        page.goto(web.url("/reader"))
        assert page.url.startswith(web.url("/user/login")), page.url

        page.goto(web.url("/user/login"))
        page.fill("#edit-name", READER)
        page.fill("#edit-pass", PASSWORD)
        page.click("#edit-submit")
        page.wait_for_url(web.url("/user/login/code"))
        assert not signed_in_as(page)  # the password alone opens nothing
        assert page.evaluate("document.activeElement.id") == "edit-code"

        page.fill("#edit-code", wrong_code(secret, time.time()))
        page.click("#edit-submit")
        expect(page.locator(".message-error")).to_have_text(
            "The code is not right. Enter the code the app shows now, or a recovery code."
        )
        assert page.url == web.url("/user/login/code")
        assert not signed_in_as(page)

        # The code the app shows next: the one just used to turn it on cannot be used twice.
        page.fill("#edit-code", pyotp.TOTP(secret).at(time.time() + 30))
        page.click("#edit-submit")
        page.wait_for_url(web.url("/reader"))
        assert signed_in_as(page)
        expect(page.locator(".messages")).to_contain_text(f"Signed in as {READER}.")
        assert page.inner_text("h1#page-title") == "Unread"
    assert opened.violations == []
    assert opened.script_errors == []


# -- 2. search in Russian ----------------------------------------------------------------


def test_searching_russian_finds_the_other_forms_of_a_word(site: Site, browser: Browser) -> None:
    web = site.web
    with tab(browser) as opened:
        page = opened.page
        sign_in(page, web)
        follow(page, web, site.feeds.url("/ru.xml"))
        page.goto(web.url("/reader"))
        assert sorted(listed(page)) == sorted(RUSSIAN)

        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.id") == "reader-q"
        assert page.input_value("#reader-q") == ""  # the key focused the box and typed nothing
        page.keyboard.type("лента")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == web.url("/reader/search?q=%D0%BB%D0%B5%D0%BD%D1%82%D0%B0")
        assert page.input_value("#edit-q") == "лента"
        found = listed(page)
        assert sorted(found) == sorted(LENTA_FORMS)
        for other in NOT_LENTA:
            assert other not in found

        # A prefix finds the words that only start alike too.
        page.fill("#edit-q", "лент*")
        with page.expect_navigation():
            page.click(".reader-search-form button[type=submit]")
        assert sorted(listed(page)) == sorted(LENTA_FORMS + ["Ленточный конвейер", "Лентяй отдыхает"])

        page.fill("#edit-q", "погоды")
        with page.expect_navigation():
            page.press("#edit-q", "Enter")
        assert listed(page) == ["Погода на завтра"]
    assert opened.violations == []
    assert opened.script_errors == []


# -- 3. a rule ------------------------------------------------------------------------


def test_a_rule_previews_on_the_items_there_and_stars_the_next_ones(site: Site, browser: Browser, lenta: Lenta) -> None:
    web = site.web
    with tab(browser) as opened:
        page = opened.page
        sign_in(page, web)
        follow(page, web, site.feeds.url("/ru.xml"))
        page.goto(web.url("/reader/rules"))
        assert page.locator("table.reader-rules").count() == 0
        page.fill("#rule-name", "Погода")
        page.select_option("#rule-field", "title")
        page.select_option("#rule-match", "words")
        page.fill("#rule-pattern", "погода")
        page.select_option("#rule-action", "star")
        page.click(".reader-rule-form button[type=submit]")
        page.wait_for_url(re.compile(r".*/reader/rules/\d+$"))
        rule_page = page.url
        assert page.inner_text("h1#page-title") == "Погода"

        # The preview: the matching item already there, not yet starred, and nothing else.
        assert page.locator(".rule-preview li").all_inner_texts() == ["Погода на завтра"]
        assert page.locator(".rule-preview li.changes").count() == 1
        expect(page.locator("button:has-text('Apply to these items')")).to_be_visible()
        page.goto(web.url("/reader/starred"))
        assert listed(page) == []  # a preview changes nothing

        page.goto(web.url("/reader/rules"))
        assert page.locator("table.reader-rules a").all_inner_texts() == ["Погода"]

        # The feed gains a matching item and one that does not match; lenta fetches them.
        site.feeds.routes["/ru.xml"] = Reply(body=russian_xml(["Погоду обещают тёплую", "Новости спорта", *RUSSIAN]), headers=RSS)
        run_apart(lenta.refresh(all_feeds=True))
        page.goto(web.url("/reader/starred"))
        assert listed(page) == ["Погоду обещают тёплую"]  # the rule acted on the new one only

        # Applied by hand, it stars the older one too; the preview then says so.
        page.goto(rule_page)
        assert sorted(page.locator(".rule-preview li.changes").all_inner_texts()) == ["Погода на завтра"]
        assert page.locator(".rule-preview li.unchanged").count() == 1  # the new one, starred already
        page.click("button:has-text('Apply to these items')")
        page.wait_for_url(rule_page)
        expect(page.locator(".messages")).to_have_text("The rule changed 1 item.")
        assert page.locator(".rule-preview li.changes").count() == 0
        page.goto(web.url("/reader/starred"))
        assert listed(page) == ["Погоду обещают тёплую", "Погода на завтра"]
    assert opened.violations == []
    assert opened.script_errors == []


# -- 4. a published view -------------------------------------------------------------


def test_a_saved_folder_published_is_read_anonymously_as_a_page_and_as_feeds(site: Site, browser: Browser) -> None:
    web = site.web
    alpha = ["Alpha 5", "Alpha 4", "Alpha 3", "Alpha 2", "Alpha 1"]
    with tab(browser) as opened:
        page = opened.page
        sign_in(page, web)
        page.goto(web.url("/reader/subscriptions"))
        page.fill("#edit-name", "Латиница")
        page.click("form.reader-folder-add button[type=submit]")
        page.wait_for_url(web.url("/reader/subscriptions"))
        page.fill("#edit-url", site.feeds.url("/alpha.xml"))
        page.select_option("form.reader-follow #edit-folder", label="Латиница")
        page.click("form.reader-follow button[type=submit]")
        page.wait_for_url(re.compile(r".*/reader/feeds/\d+$"))
        follow(page, web, site.feeds.url("/ru.xml"))  # in no folder: not in the view

        page.goto(web.url("/reader/views"))
        assert page.locator(".saved-view").count() == 0
        saving = page.locator("form.saved-view-add:has(input[name=kind][value=folder])")
        saving.locator("select[name=folder_id]").select_option(label="Латиница")
        saving.locator("input[name=name]").fill("Alpha only")
        saving.locator("button[type=submit]").click()
        page.wait_for_url(web.url("/reader/views"))
        expect(page.locator(".messages")).to_contain_text("Saved the view Alpha only.")
        view = page.locator(".saved-view", has_text="Alpha only")
        assert view.locator(".saved-view-what").inner_text() == "Folder Латиница"
        assert view.locator(".saved-view-urls").inner_text() == "Not published."

        view.locator("button:has-text('Publish')").click()
        page.wait_for_url(web.url("/reader/views"))
        view = page.locator(".saved-view", has_text="Alpha only")
        links = view.locator(".saved-view-urls a")
        hrefs = [links.nth(n).get_attribute("href") or "" for n in range(links.count())]
        assert len(hrefs) == 4, hrefs
        public = hrefs[0]
        assert re.fullmatch(re.escape(web.url("/views/")) + r"[A-Za-z0-9_-]{20,}", public), public
        assert hrefs[1:] == [f"{public}.rss", f"{public}.atom", f"{public}.json"]
    assert opened.violations == []

    with tab(browser, locale="ru-RU") as anonymous:
        page = anonymous.page
        response = page.goto(public)
        assert response is not None and response.status == 200
        assert not signed_in_as(page)
        assert page.inner_text("h1#page-title") == "Alpha only"
        shown = [text.strip() for text in page.locator("article.feed-item .feed-item-title").all_inner_texts()]
        assert shown == alpha  # the folder's feed, newest first, not the Russian one
        assert page.locator(".reader-nav, article[data-item]").count() == 0  # nothing of the owner's reader
        feed_links = page.locator(".saved-view-feeds a")
        assert [urljoin(public, feed_links.nth(n).get_attribute("href") or "") for n in range(3)] == hrefs[1:]

        formats = {"rss": "rss2.0", "atom": "atom1.0", "json": "json1.1"}
        for suffix, expected in formats.items():
            url = f"{public}.{suffix}"
            got = page.request.get(url)
            assert got.status == 200, url
            parsed = parse_feed(got.body(), url=url, content_type=got.headers.get("content-type"))
            assert parsed.format == expected, url
            assert parsed.title == "Alpha only", url
            assert [item.title for item in parsed.items] == shown, url
            assert all(item.link and item.link.startswith("https://example.com/Alpha/") for item in parsed.items), url
    assert anonymous.violations == []


# -- 5. language and theme --------------------------------------------------------------


def save_settings(page: Page, web: AppServer, *, language: str | None = None, theme: str | None = None) -> None:
    page.goto(web.url("/user/settings"))
    if language is not None:
        page.select_option("#edit-language", language)
    if theme is not None:
        page.check(f"#edit-theme-{theme}")
    page.click("#edit-submit")
    page.wait_for_url(web.url("/user/settings"))
    expect(page.locator(".messages .message")).to_be_visible()


def test_russian_and_a_dark_theme_chosen_in_the_settings(site: Site, browser: Browser) -> None:
    web = site.web
    with tab(browser, locale="en-US") as opened:
        page = opened.page
        sign_in(page, web)
        follow(page, web, site.feeds.url("/alpha.xml"))
        page.goto(web.url("/reader"))
        assert page.inner_text("h1#page-title") == "Unread"
        assert not is_dark(page)

        save_settings(page, web, language="ru", theme="dark")
        assert page.inner_text(".messages .message") == "Изменения сохранены."
        assert page.input_value("#edit-language") == "ru"
        assert page.is_checked("#edit-theme-dark")
        page.goto(web.url("/reader"))
        assert page.get_attribute("html", "lang") == "ru"
        assert page.inner_text("h1#page-title") == "Непрочитанное"
        views = page.inner_text(".reader-views")
        for russian in ("Непрочитанное", "Все записи", "Избранное", "Подписки"):
            assert russian in views, russian
        assert "Unread" not in views
        assert page.get_attribute("html", "class") == "theme-dark"
        assert is_dark(page)
        assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") == "dark"

        # As the device is set: this browser says light.
        save_settings(page, web, theme="system")
        page.goto(web.url("/reader"))
        assert page.get_attribute("html", "class") == "theme-system"
        assert not is_dark(page)
        assert page.inner_text("h1#page-title") == "Непрочитанное"
    assert opened.violations == []
    assert opened.script_errors == []

    # A browser set to dark, still English: dark, and Russian.
    with tab(browser, locale="en-US", color_scheme="dark") as dark:
        page = dark.page
        sign_in(page, web)
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is True
        assert page.inner_text("h1#page-title") == "Непрочитанное"
        assert is_dark(page)
        # The site's other pages follow it too.
        page.goto(web.url("/aggregator"))
        assert is_dark(page)
        # Light chosen wins over the device.
        save_settings(page, web, theme="light")
        page.goto(web.url("/reader"))
        assert page.get_attribute("html", "class") == "theme-light"
        assert not is_dark(page)
    assert dark.violations == []
    assert dark.script_errors == []


# -- 6. screenshots, and no sideways scroll on a phone --------------------------------------


def test_screenshots_of_the_reader_pages_and_none_scrolls_sideways_on_a_phone(site: Site, browser: Browser, lenta: Lenta) -> None:
    """Every page drawn at 390 and 1280 px (/reader in both themes) and kept
    as an artifact; at 390 px none is wider than the screen, though a feed
    with wide everything, a long folder, a long rule and a long view are in it."""
    web = site.web
    reader = lenta.reader(site.reader)
    site.feeds.routes["/pixel.png"] = Reply(body=PIXEL, headers={"Content-Type": "image/png"})
    site.feeds.routes[LONG_PATH] = Reply(body=wide_feed(site.feeds.base_url, 3), headers=RSS)
    folder = reader.add_folder(LONG_WORD)
    run_apart(reader.follow(site.feeds.url(LONG_PATH), folder_ids=[folder.id]))
    run_apart(reader.follow(site.feeds.url("/ru.xml")))
    reader.save_rule(name=LONG_WORD, field="any", match="words", pattern=f"{LONG_WORD} погода", action="star")
    reader.save_rule(name="Погода", field="title", match="regex", pattern=r"^погод\w*\s+на\s+завтра$", action="read")
    views = lenta.saved_views(site.reader)
    views.publish(views.save_folder(folder.id, name=LONG_WORD).id)
    views.save_search("лента", name="Лента")
    item = reader.items("unread", per_page=1).items[0].item.id
    pages = {
        "river": "/reader",
        "item": f"/reader/items/{item}",
        "search": "/reader/search?q=column0column0",
        "rules": "/reader/rules",
        "views": "/reader/views",
        "settings": "/user/settings",
    }
    wide: dict[str, object] = {}
    shots: list[Path] = []
    for width in (PHONE, DESKTOP):
        with tab(browser, width=width) as opened:
            page = opened.page
            sign_in(page, web)
            for theme in ("light", "dark"):
                lenta.save_user_settings(site.reader, {"theme": theme})
                for name, path in pages.items():
                    if theme == "dark" and name != "river":
                        continue
                    found = overflow(page, web.url(path))
                    assert page.get_attribute("html", "class") == f"theme-{theme}", path
                    assert is_dark(page) is (theme == "dark"), path
                    if name == "search":
                        assert len(listed(page)) == 3, "the wide items are found"
                    if found.scroll_width > width:
                        wide[f"{path} at {width} px ({theme})"] = found
                    shot = ARTIFACTS / f"lenta-reader2-{width}-{name}-{theme}.png"
                    page.screenshot(path=str(shot), full_page=False)
                    shots.append(shot)
        assert opened.violations == []
        assert opened.script_errors == []
    assert wide == {}, "\n".join(f"{path}: {found}" for path, found in wide.items())
    assert len(shots) == 14 and all(shot.stat().st_size > 1000 for shot in shots)
