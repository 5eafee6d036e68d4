"""Feed health: every failure category as the pipeline stores it, the
health page and the health-sorted admin table, /healthz and /metrics."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from httpserver import free_port
from pagetext import parse_page
from test_web import ADMIN
from test_web import PASSWORD
from test_web import client
from test_web import sign_in
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.web import create_app

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>ok</title>'
    b"<item><guid>1</guid><title>x</title></item></channel></rss>"
)
CHALLENGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    b"<body><div id='cf-chl-widget'>Checking your browser</div></body></html>"
)

CASES: dict[str, tuple[Callable[[LocalServer], str], str]] = {
    # kind: (URL for the feed, text the stored error contains)
    "dns": (lambda s: "http://no-such-feed.invalid/feed", "could not resolve host"),
    "refused": (lambda s: f"http://127.0.0.1:{free_port()}/feed", "connection refused"),
    "tls": (lambda s: f"https://127.0.0.1:{s.port}/feed", "TLS error"),
    "timeout": (lambda s: s.url("/slow"), ""),
    "http_4xx": (lambda s: s.url("/missing"), "HTTP 404"),
    "http_5xx": (lambda s: s.url("/broken"), "HTTP 502"),
    "bot_wall": (lambda s: s.url("/challenge"), "challenge"),
    "not_a_feed": (lambda s: s.url("/page"), "HTML page"),
    "parse": (lambda s: s.url("/truncated"), "invalid"),
    "gone": (lambda s: s.url("/gone"), "410"),
}


def routes() -> dict[str, Reply]:
    return {
        "/feed": Reply(body=RSS, headers={"Content-Type": "application/rss+xml"}),
        "/slow": Reply(body=RSS, delay=5),
        "/broken": Reply(status=502, body=b"bad gateway"),
        "/challenge": Reply(status=503, body=CHALLENGE, headers={"Content-Type": "text/html"}),
        "/page": Reply(body=b"<!doctype html><html><body><p>Hello</p></body></html>", headers={"Content-Type": "text/html"}),
        "/truncated": Reply(
            body=b'{"version": "https://jsonfeed.org/version/1", "items": [{"id"',
            headers={"Content-Type": "application/feed+json"},
        ),
        "/gone": Reply(status=410, body=b"gone"),
    }


@pytest.fixture
def quick(settings: Settings) -> Settings:
    return settings.replace(fetch_timeout=0.5, fetch_deadline=2.0)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_failure_is_stored_with_its_category(kind: str, quick: Settings, lenta: Lenta) -> None:
    lenta.settings = quick
    make_url, text = CASES[kind]
    with LocalServer(routes()) as server:
        feed = asyncio.run(lenta.add_feed(make_url(server), discover=False))
        healthy = asyncio.run(lenta.add_feed(server.url("/feed"), discover=False))
        summary = asyncio.run(lenta.refresh(all_feeds=True))
    stored = lenta.get_feed(feed.id)
    assert stored.error_kind == kind, stored.error
    assert text in (stored.error or ""), stored.error
    assert summary.failed == 1 and summary.ok == 1
    assert lenta.get_feed(healthy.id).error is None
    (entry,) = lenta.fetch_history(feed.id)
    assert entry.outcome == kind and entry.error == stored.error
    if kind == "gone":
        assert stored.gone and stored.next_check_at is None
    else:
        assert stored.next_check_at is not None


def test_health_page_and_sorting(quick: Settings, lenta: Lenta) -> None:
    lenta.settings = quick
    lenta.add_user("admin", PASSWORD, is_admin=True)
    with LocalServer(routes()) as server:
        good = asyncio.run(lenta.add_feed(server.url("/feed"), discover=False))
        bad = asyncio.run(lenta.add_feed(server.url("/broken"), discover=False))
        gone = asyncio.run(lenta.add_feed(server.url("/gone"), discover=False))
        for _ in range(2):
            asyncio.run(lenta.refresh([good.id, bad.id]))
        asyncio.run(lenta.refresh([gone.id]))
    with AppServer(create_app(quick, lenta)) as web, client(web) as http:
        sign_in(http)
        table = parse_page(http.get(ADMIN + "?sort=health").text)
        page = parse_page(http.get(f"{ADMIN}/health/{bad.id}").text)
        healthy_page = parse_page(http.get(f"{ADMIN}/health/{good.id}").text)
        russian = http.get(f"{ADMIN}/health/{bad.id}", headers={"Accept-Language": "ru"}).text
        assert http.get(f"{ADMIN}/health/9999").status_code == 404
    order = [row.cssselect(".feed-url")[0].text_content() for row in table.cssselect("tr.feed-row")]
    assert order == [server.url("/gone"), server.url("/broken"), server.url("/feed")]
    assert page.cssselect(".health-state")[0].text_content() == "HTTP server error"
    assert page.cssselect(".health-error-count")[0].text_content() == "2"
    rows = page.cssselect("table.fetch-history tbody tr")
    assert len(rows) == 2
    assert [td.text_content() for td in rows[0].cssselect("td")][1:3] == ["HTTP server error", "502"]
    assert healthy_page.cssselect(".health-state")[0].text_content() == "OK"
    assert [td.text_content() for td in healthy_page.cssselect("table.fetch-history tbody tr")[0].cssselect("td")][1] in {
        "OK",
        "Not modified",
    }
    assert "Ошибка HTTP (сервер)" in russian and "Последние загрузки" in russian


def test_healthz_and_metrics(settings: Settings, lenta: Lenta) -> None:
    with LocalServer(routes()) as server:
        asyncio.run(lenta.add_feed(server.url("/feed"), discover=False))
        asyncio.run(lenta.add_feed(server.url("/broken"), discover=False))
        asyncio.run(lenta.refresh(all_feeds=True))
        asyncio.run(lenta.refresh(all_feeds=True))
        asyncio.run(lenta.add_feed(server.url("/never"), discover=False))
    with AppServer(create_app(settings, lenta)) as web, httpx.Client(base_url=web.url("")) as http:
        health = http.get("/healthz")
        text = http.get("/metrics").text
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["database"] == "sqlite"
    assert health.json()["feeds_due"] == 1

    def value(pattern: str) -> float:
        match = re.search(pattern + r" ([0-9.e+-]+)\n", text)
        assert match, pattern
        return float(match.group(1))

    assert value(r'lenta_fetches_total\{outcome="ok"\}') >= 1
    assert value(r'lenta_fetches_total\{outcome="http_5xx"\}') >= 2
    assert value(r'lenta_fetch_duration_seconds_count\{outcome="http_5xx"\}') >= 2
    assert value("lenta_items_stored") == 1
    assert value(r'lenta_feeds\{state="error"\}') == 1
    assert value(r'lenta_feeds\{state="never_checked"\}') == 1
    assert value("lenta_feeds_due") == 1
    assert value("lenta_queue_lag_seconds") >= 0


def test_fetch_metrics_count_what_another_process_fetched(settings: Settings, lenta: Lenta) -> None:
    # `lenta refresh` in a child process fetches; this process's /metrics reports it.
    import os
    import subprocess
    import sys

    from lenta.config import settings_to_env

    with LocalServer(routes()) as server:
        asyncio.run(lenta.add_feed(server.url("/feed"), discover=False))
        env = {**os.environ, **settings_to_env(settings)}
        done = subprocess.run(
            [sys.executable, "-m", "lenta", "refresh", "--all"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    assert done.returncode == 0, done.stderr
    with AppServer(create_app(settings, lenta)) as web, httpx.Client(base_url=web.url("")) as http:
        text = http.get("/metrics").text
    assert 'lenta_fetches_total{outcome="ok"} 1.0' in text
    assert 'lenta_fetch_duration_seconds_bucket{le="+Inf",outcome="ok"} 1.0' in text
