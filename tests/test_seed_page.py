"""The reference page: page 10 of a Drupal aggregator, in Russian, rebuilt
by lenta from a served feed with only its command line.

A 300-item RSS feed built from the seed page's text (its 20 posts at
positions 181–200, newest first) is served on 127.0.0.1; `lenta add`,
`lenta refresh` and `lenta serve` run as real processes; page 9
(zero-based) of /aggregator must read like the seed, line by line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import SEED
from httpserver import LocalServer
from httpserver import Reply
from httpserver import free_port
from pagetext import block_lines
from pagetext import parse_page
from pagetext import seed_view
from seedfeed import SEED_FIRST
from seedfeed import feed_posts
from seedfeed import read_seed
from seedfeed import seed_feed


def lenta_command(db: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LENTA_DB": str(db), "LENTA_FETCH_ALLOW": "127.0.0.1"}
    return subprocess.run(  # type: ignore[no-any-return]  # kwargs pass through to run()
        [sys.executable, "-m", "lenta", *args], env=env, capture_output=True, text=True, timeout=120, check=False, **kwargs
    )  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    if not SEED.is_file():
        pytest.skip(f"the seed page is not at {SEED} (set LENTA_SEED)")
    return SEED.read_text(encoding="utf-8").rstrip("\n").split("\n")


@pytest.fixture(scope="module")
def served_site(tmp_path_factory: pytest.TempPathFactory, seed_lines: list[str]) -> Iterator[str]:
    """Runs add (which fetches the feed) → serve; yields the base URL of the running site."""
    seed = read_seed(SEED)
    db = tmp_path_factory.mktemp("seed") / "lenta.sqlite"
    feed = Reply(body=seed_feed(seed), headers={"Content-Type": "application/rss+xml; charset=utf-8"}, gzip=True)
    with LocalServer({"/lesswrong.xml": feed}) as feed_server:
        added = lenta_command(db, "add", feed_server.url("/lesswrong.xml"))
        assert added.returncode == 0, added.stderr
        assert "(300 items)" in added.stdout, added.stdout
    port = free_port()
    env = {**os.environ, "LENTA_DB": str(db), "LENTA_SCHEDULER": "false"}
    server = subprocess.Popen(
        [sys.executable, "-m", "lenta", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/aggregator", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"lenta serve did not start: {server.communicate()[1]}") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_page_10_in_russian_reads_like_the_seed_line_by_line(served_site: str, seed_lines: list[str]) -> None:
    response = httpx.get(served_site + "/aggregator?page=9", headers={"Accept-Language": "ru"})
    assert response.status_code == 200
    lines = seed_view(parse_page(response.text))
    # Compare line by line so a failure names the first line that differs.
    for number, (got, expected) in enumerate(zip(lines, seed_lines), start=1):
        assert got == expected, f"line {number} differs"
    assert len(lines) == len(seed_lines)


def test_page_10_structure(served_site: str, seed_lines: list[str]) -> None:
    response = httpx.get(served_site + "/aggregator?page=9", headers={"Accept-Language": "ru"})
    page = parse_page(response.text)
    assert block_lines(page.cssselect("nav.breadcrumb-region h2")[0]) == ["Вы здесь"]
    assert page.cssselect("h1#page-title")[0].text_content().strip() == "Сборщик RSS-лент"
    seed = read_seed(SEED)
    posts = feed_posts(seed)[SEED_FIRST - 1 : SEED_FIRST + 19]
    articles = page.cssselect("article.feed-item")
    assert [a.cssselect(".feed-item-title")[0].text_content().strip() for a in articles] == [p.title for p in posts]
    for article, post in zip(articles, posts):
        assert article.cssselect(".feed-item-title a")[0].get("href") == post.link
        discuss = [a for a in article.cssselect(".feed-item-body a") if a.text_content() == "Discuss"]
        assert [a.get("href") for a in discuss] == [post.discuss_link]
    pager = [li.text_content().strip() for li in page.cssselect("ul.pager li")]
    assert pager == [
        "« первая",
        "‹ предыдущая",
        "…",
        "6",
        "7",
        "8",
        "9",
        "10",
        "11",
        "12",
        "13",
        "14",
        "…",
        "следующая ›",
        "последняя »",
    ]
    assert page.cssselect("ul.pager li.pager-current")[0].text_content().strip() == "10"


def test_page_10_in_english(served_site: str) -> None:
    response = httpx.get(served_site + "/aggregator?page=9", headers={"Accept-Language": "en-US,en;q=0.9"})
    page = parse_page(response.text)
    assert page.cssselect("h1#page-title")[0].text_content().strip() == "Feed aggregator"
    assert block_lines(page.cssselect("nav.breadcrumb-region h2")[0]) == ["You are here"]
    pager = [li.text_content().strip() for li in page.cssselect("ul.pager li")]
    assert pager == ["« first", "‹ previous", "…", "6", "7", "8", "9", "10", "11", "12", "13", "14", "…", "next ›", "last »"]
    links = {
        li.text_content().strip(): li.cssselect("a")[0].get("href") for li in page.cssselect("ul.pager li") if li.cssselect("a")
    }
    assert links["« first"] == "/aggregator"
    assert links["‹ previous"] == "/aggregator?page=8"
    assert links["next ›"] == "/aggregator?page=10"
    assert links["last »"] == "/aggregator?page=14"


def test_lenta_list_shows_the_feed_after_refresh(served_site: str, tmp_path: Path) -> None:
    # The served site's database is separate; this checks list output format on a fresh one.
    db = tmp_path / "other.sqlite"
    with LocalServer({"/f": Reply(body=seed_feed(read_seed(SEED)), headers={"Content-Type": "application/rss+xml"})}) as srv:
        assert lenta_command(db, "add", srv.url("/f"), "--title", "Less Wrong").returncode == 0
        assert lenta_command(db, "refresh").returncode == 0
    listed = lenta_command(db, "list")
    assert listed.returncode == 0
    header, row = listed.stdout.splitlines()[:2]
    assert header.split()[:4] == ["ID", "TITLE", "URL", "ITEMS"]
    assert "Less Wrong" in row and " 300 " in row
