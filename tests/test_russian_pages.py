"""No English in the Russian UI (issue 10): every page of a site with a feed
in every error kind, walked in Russian as an admin, has no Latin-script
word but URLs, host names and a few names (HTTP, JSON, lenta…); errors are
shown from their stored message and arguments, and numbers, sizes and
durations as Russian writes them.

The errors come from real answers of a server on 127.0.0.1 where one can
make them (a refused port, a dead name, TLS to a plain port, a slow answer,
4xx, 5xx, 410, a bot wall, a body over the cap, a redirect loop, a bad
redirect, an address outside LENTA_FETCH_ALLOW, an HTML page, broken JSON);
lenta's own failure (``internal``) and a row stored before errors kept their
parameters are written through storage.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from httpserver import free_port
from httpserver import redirect
from lxml import html as lxml_html
from pagetext import parse_page
from test_web import ADMIN
from test_web import PASSWORD
from test_web import client
from test_web import form_token
from test_web import sign_in
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import LentaError
from lenta.storage import Storage
from lenta.storage.records import FeedChanges
from lenta.storage.records import FetchLogRecord
from lenta.storage.records import SubscriptionChanges
from lenta.types import FetchOutcome
from lenta.types import SubscriptionState
from lenta.update.store import after_error
from lenta.update.store import error_params
from lenta.update.store import internal_error
from lenta.web import create_app

ADMIN_NAME = "админ"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}
MAX_BYTES = 4000
CHALLENGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    b"<body><div id='cf-chl-widget'>Checking your browser</div></body></html>"
)

# Latin-script words a Russian page may hold: names of protocols, formats,
# settings and lenta itself, and the site's zone (IANA names are Latin).
NAMES = {
    "HTTP",
    "TLS",
    "JSON",
    "XML",
    "HTML",
    "RSS",
    "Atom",
    "OPML",
    "URL",
    "API",
    "Miniflux",
    "lenta",
    "LENTA_FETCH_ALLOW",
    "LENTA_FETCH_MAX_BYTES",
    "LENTA_FETCH_DEADLINE",
    "WebSub",
    "Europe",
    "Moscow",
    "UTC",
}
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s<>\"'«»]*")
_HOST = re.compile(
    r"\[[0-9a-fA-F:]+\](?::\d+)?"  # [::1]:8080
    r"|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?"  # 127.0.0.1:8080
    r"|\b[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b(?::\d+)?"  # no-such-feed.invalid
)
_PATH = re.compile(r"(?<![\w/])/[a-z][\w/.-]*")  # a path of the site, as /user/register: an address, not words
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_]*")
# Data, not words: an admin's text, IANA names, keys, paths, and text marked
# as English (a language's own name in the language menu, "JSON Feed").
_SKIPPED = "script, style, textarea, kbd, code, [lang=en], select#edit-time-zone option"


def feed_xml() -> bytes:
    items = "".join(
        f"<item><title>Заметка {n}</title><link>https://example.com/{n}</link><guid>n{n}</guid>"
        f"<pubDate>{format_datetime(datetime(2026, 2, 20 + n, 12, tzinfo=UTC), usegmt=True)}</pubDate>"
        f"<description>Текст заметки {n}</description><category>Заметки</category></item>"
        for n in range(1, 4)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Хорошая лента</title>'
        f"<link>https://example.com/</link><description>Описание</description>{items}</channel></rss>"
    ).encode()


def routes() -> dict[str, Reply]:
    return {
        "/good.xml": Reply(body=feed_xml(), headers=RSS_TYPE),
        "/slow": Reply(body=feed_xml(), headers=RSS_TYPE, delay=5),
        "/broken": Reply(status=502, body=b"bad gateway"),
        "/gone": Reply(status=410, body=b"gone"),
        "/challenge": Reply(status=503, body=CHALLENGE, headers={"Content-Type": "text/html"}),
        "/big": Reply(body=b"<rss>" + b" " * (MAX_BYTES * 2) + b"</rss>", headers=RSS_TYPE),
        "/loop": redirect("/loop"),
        "/bad-redirect": redirect("http://[::1"),
        "/page": Reply(body=b"<!doctype html><html><body><p>Hello</p></body></html>", headers={"Content-Type": "text/html"}),
        "/broken.json": Reply(
            body=b'{"version": "https://jsonfeed.org/version/1", "items": [{"id"',
            headers={"Content-Type": "application/feed+json"},
        ),
    }


# The URL each kind comes from, on the server at ``port``.
SERVED: dict[FetchErrorKind, Callable[[int], str]] = {
    FetchErrorKind.DNS: lambda port: "http://no-such-feed.invalid/feed",
    FetchErrorKind.REFUSED: lambda port: f"http://127.0.0.1:{free_port()}/feed",
    FetchErrorKind.TLS: lambda port: f"https://127.0.0.1:{port}/good.xml",
    FetchErrorKind.TIMEOUT: lambda port: f"http://127.0.0.1:{port}/slow",
    FetchErrorKind.HTTP_CLIENT: lambda port: f"http://127.0.0.1:{port}/missing",
    FetchErrorKind.HTTP_SERVER: lambda port: f"http://127.0.0.1:{port}/broken",
    FetchErrorKind.GONE: lambda port: f"http://127.0.0.1:{port}/gone",
    FetchErrorKind.BOT_WALL: lambda port: f"http://127.0.0.1:{port}/challenge",
    FetchErrorKind.TOO_LARGE: lambda port: f"http://127.0.0.1:{port}/big",
    FetchErrorKind.TOO_MANY_REDIRECTS: lambda port: f"http://127.0.0.1:{port}/loop",
    FetchErrorKind.NOT_ALLOWED: lambda port: f"http://127.0.0.2:{port}/good.xml",
    FetchErrorKind.NETWORK: lambda port: f"http://127.0.0.1:{port}/bad-redirect",
    FetchErrorKind.NOT_A_FEED: lambda port: f"http://127.0.0.1:{port}/page",
    FetchErrorKind.PARSE: lambda port: f"http://127.0.0.1:{port}/broken.json",
}


def latin_words(page: lxml_html.HtmlElement) -> dict[str, str]:
    """Latin-script words a reader sees on ``page`` (its text, and the
    titles, placeholders, alt texts and input buttons' labels), less URLs,
    host names and addresses, and :data:`NAMES`: each with the text around
    it, to say where it is."""
    for element in page.cssselect(_SKIPPED):
        element.drop_tree()
    texts = [" ".join(page.itertext())]  # a space between elements: "<td>лента</td><td>http://…" is two words
    for element in page.iter():
        if not isinstance(element.tag, str):
            continue
        texts += [element.get(name, "") for name in ("title", "placeholder", "alt", "aria-label")]
        if element.tag == "input" and element.get("type") in {"submit", "button"}:  # a <button>'s value is not shown
            texts.append(element.get("value", ""))
    words: dict[str, str] = {}
    for text in texts:
        text = " ".join(_PATH.sub(" ", _HOST.sub(" ", _URL.sub(" ", text))).split())
        for match in _LATIN_WORD.finditer(text):
            if match.group() not in NAMES:
                words[match.group()] = text[max(0, match.start() - 50) : match.end() + 50]
    return words


@pytest.fixture
def russian_site(settings: Settings, lenta: Lenta, lenta_storage: Storage) -> Iterator[tuple[AppServer, dict[str, int]]]:
    """A site with a good feed and a feed in every error kind; yields the
    web server and the feed ids by kind."""
    quick = settings.replace(fetch_timeout=0.5, fetch_deadline=2.0, fetch_max_bytes=MAX_BYTES)
    lenta.settings = quick
    lenta.add_user(ADMIN_NAME, PASSWORD, is_admin=True)
    lenta.save_site_settings({"time_zone": "Europe/Moscow", "site_name": "Ленты"})
    ids: dict[str, int] = {}
    with LocalServer(routes()) as server:
        category = lenta.add_category("Новости")
        ids["ok"] = asyncio.run(lenta.add_feed(server.url("/good.xml"), discover=False, category_ids=[category.id])).id
        for kind, make_url in SERVED.items():
            ids[kind] = asyncio.run(lenta.add_feed(make_url(server.port), discover=False, category_ids=[category.id])).id
        asyncio.run(lenta.refresh(all_feeds=True))
        asyncio.run(lenta.refresh([ids["ok"]]))  # a second fetch: a 200 again, or a 304
    # lenta's own failure: no server makes one.
    internal = asyncio.run(lenta.add_feed("http://127.0.0.1:9/internal", discover=False))
    stored = after_error(internal, internal_error(RuntimeError("boom")), NOW, hub_pushes=False, duration=0.25)
    lenta_storage.feeds.change(internal.id, stored.changes)
    # A row from before errors kept their message and arguments: English text alone.
    legacy = asyncio.run(lenta.add_feed("http://127.0.0.1:9/legacy", discover=False))
    lenta_storage.feeds.change(
        legacy.id,
        FeedChanges(error="connection refused by 127.0.0.1:9", error_kind=FetchErrorKind.REFUSED, error_count=1, checked_at=NOW),
    )
    with lenta_storage.db.write() as connection:
        lenta_storage.feeds.log_fetches(
            connection,
            [
                (internal.id, stored.log),
                (
                    legacy.id,
                    FetchLogRecord(at=NOW, outcome=FetchOutcome.REFUSED, duration=1.5, error="connection refused by 127.0.0.1:9"),
                ),
            ],
        )
    ids["internal"], ids["legacy"] = internal.id, legacy.id
    # A WebSub hub that refused the good feed's subscription, in its own (English) words.
    sub = lenta_storage.websub.add(
        ids["ok"],
        hub_url="https://hub.example.com/",
        topic="https://example.com/feed",
        callback="https://lenta.example.com/websub/t",
        token="t",
        secret="s" * 43,
        lease_seconds=86400,
        now=NOW,
    )
    denied = LentaError(
        "The hub denied the subscription: {reason}", brief="The hub denied the subscription.", reason="Forbidden by policy"
    )
    lenta_storage.websub.change(
        sub.id,
        SubscriptionChanges(
            state=SubscriptionState.FAILED, attempts=1, error=str(denied), error_params=error_params(denied), retry_at=NOW
        ),
    )
    with AppServer(create_app(quick, lenta)) as web:
        yield web, ids


def walk(http: httpx.Client, starts: list[str], limit: int = 400) -> dict[str, httpx.Response]:
    """Every page reachable from ``starts`` by links of the site (GET only;
    the RSS and OPML documents are feeds' words, not the UI's)."""
    seen: dict[str, httpx.Response] = {}
    queue = list(starts)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        response = http.get(path)
        seen[path] = response
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for link in parse_page(response.text).cssselect("a[href]"):
            href = link.get("href", "")
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not href.startswith("/") or parts.path in {"/aggregator/rss", "/aggregator/opml"}:
                continue
            queue.append(href.split("#")[0])
    return seen


def test_every_page_in_russian_has_no_english(russian_site: tuple[AppServer, dict[str, int]], lenta: Lenta) -> None:
    web, ids = russian_site
    for kind in SERVED:
        assert lenta.get_feed(ids[kind]).error_kind == kind, (kind, lenta.get_feed(ids[kind]).error)
    with client(web, "ru") as http:
        public = walk(http, ["/aggregator", "/user/login"])
        sign_in(http, ADMIN_NAME)
        admin = walk(http, ["/aggregator", ADMIN, f"{ADMIN}?sort=health", "/admin/people"])
    assert all(f"{ADMIN}/health/{feed_id}" in admin for feed_id in ids.values())
    assert f"/aggregator/sources/{ids['ok']}" in public and "/aggregator/categories" in public
    english: dict[str, dict[str, str]] = {}
    for path, response in {**public, **admin}.items():
        assert response.status_code in {200, 302, 303}, (path, response.status_code)
        if response.status_code == 200 and "text/html" in response.headers["content-type"]:
            words = latin_words(parse_page(response.text))
            if words:
                english[path] = words
    assert english == {}, {path: sorted(words) for path, words in english.items()}


def test_errors_numbers_and_durations_read_in_russian(russian_site: tuple[AppServer, dict[str, int]]) -> None:
    web, ids = russian_site
    with client(web, "ru") as http:
        sign_in(http, ADMIN_NAME)
        table = parse_page(http.get(ADMIN).text)
        health = {kind: parse_page(http.get(f"{ADMIN}/health/{feed_id}").text) for kind, feed_id in ids.items()}
        # "update items" on a failing feed (its server is gone now): the message says why, in Russian.
        updated = http.post(
            f"{ADMIN}/update/{ids[FetchErrorKind.HTTP_CLIENT]}", data={"csrf_token": form_token(http.get(ADMIN).text)}
        )
        flashed = parse_page(http.get(ADMIN).text).cssselect(".message-error")
    assert updated.status_code == 303 and len(flashed) == 1
    assert "Соединение отклонено: соединение отклонено узлом 127.0.0.1:" in flashed[0].text_content()
    assert latin_words(flashed[0]) == {}
    errors = {row.get("id"): row.cssselect(".feed-last-error")[0].text_content() for row in table.cssselect("tr.feed-row")}
    assert errors[f"feed-{ids[FetchErrorKind.REFUSED]}"].startswith("Соединение отклонено: соединение отклонено узлом 127.0.0.1:")
    assert errors[f"feed-{ids[FetchErrorKind.HTTP_CLIENT]}"] == "Ошибка HTTP (клиент): HTTP 404"
    assert errors[f"feed-{ids[FetchErrorKind.NOT_A_FEED]}"] == "Не лента: Документ — HTML-страница, а не лента."
    assert errors[f"feed-{ids[FetchErrorKind.PARSE]}"] == "Ошибка разбора: Документ JSON некорректен в строке 1, столбце 62."
    assert errors[f"feed-{ids[FetchErrorKind.TOO_LARGE]}"] == (
        "Слишком большой ответ: ответ больше 4\N{NO-BREAK SPACE}000 байт (LENTA_FETCH_MAX_BYTES)"
    )
    assert errors[f"feed-{ids['legacy']}"] == "Соединение отклонено"  # its English text is not shown in Russian
    assert errors[f"feed-{ids['internal']}"] == "Внутренняя ошибка: lenta не удалось обработать эту ленту."
    history = health["legacy"].cssselect("table.fetch-history tbody tr td")
    assert [td.text_content() for td in history][1:4] == ["Соединение отклонено", "-", "1,50 с"]
    assert (
        health["ok"]
        .cssselect(".health-websub")[0]
        .text_content()
        .startswith("https://hub.example.com/: подписка не удалась; Хаб отклонил подписку. (следующая попытка ")
    )
    good = health["ok"].cssselect("table.fetch-history tbody tr")[-1].cssselect("td")
    assert re.fullmatch(r"\d+,\d\d с", good[3].text_content()) and good[4].text_content().endswith("Б")
