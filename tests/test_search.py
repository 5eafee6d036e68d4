"""Full-text search in the reader (issue 11): the same queries on SQLite
(FTS5) and PostgreSQL (tsvector) with the same expected hits, Russian and
English word forms, phrases, prefixes and every filter; what is indexed
and when."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest
from httpserver import LocalServer
from httpserver import Reply

from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.exceptions import InvalidInputError
from lenta.exceptions import NotFollowingError
from lenta.reader import Reader
from lenta.search import parse_query
from lenta.search import stems
from lenta.search import words

RSS = {"Content-Type": "application/rss+xml"}
DAY = datetime(2026, 10, 1, tzinfo=UTC)

# (guid, title, body, days after DAY)
NEWS = [
    ("ru-1", "Новая лента новостей", "<p>Мы запустили ленту для читателей.</p>", 1),
    ("ru-2", "Обзор", "<p>Статья о том, как работать с лентой и с лентами.</p>", 2),
    ("ru-3", "Погода", "<p>Завтра дождь, послезавтра солнце.</p>", 3),
    ("en-1", "Feeding the cat", "<p>How we feed our cat every morning.</p>", 4),
    ("en-2", "Feeds and readers", "<p>A feed reader reads <b>feeds</b>; an open source project.</p>", 5),
]
BLOG = [
    ("b-1", "Open source at scale", "<p>Running an <i>open source</i> aggregator for many feeds.</p>", 6),
    ("b-2", "Source code notes", "<p>Open the file, read the source.</p>", 7),
]


def rss(title: str, entries: list[tuple[str, str, str, int]]) -> bytes:
    items = "".join(
        f"<item><title>{escape(headline)}</title><guid>{guid}</guid><link>https://example.com/{guid}</link>"
        f"<pubDate>{format_datetime(DAY + timedelta(days=days), usegmt=True)}</pubDate>"
        f"<description>{escape(body)}</description></item>"
        for guid, headline, body, days in entries
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'.encode()


@pytest.fixture
def feeds() -> Iterator[LocalServer]:
    routes = {"/news.xml": Reply(body=rss("News", NEWS), headers=RSS), "/blog.xml": Reply(body=rss("Blog", BLOG), headers=RSS)}
    with LocalServer(routes) as server:
        yield server


@pytest.fixture
def site(backend_url: str, tmp_path: Path) -> Iterator[Lenta]:
    settings = load_settings({}, db=backend_url, fetch_allow="127.0.0.1,::1", scheduler=False, host_interval=0.0)
    instance = make_lenta(settings)
    yield instance
    instance.close()


@pytest.fixture
def ann(site: Lenta, feeds: LocalServer) -> Reader:
    reader = site.reader(site.add_user("ann", "correct horse battery"))
    folder = reader.add_folder("Work")
    asyncio.run(reader.follow(feeds.url("/news.xml")))
    asyncio.run(reader.follow(feeds.url("/blog.xml"), folder_ids=[folder.id]))
    return reader


def hits(reader: Reader, text: str, view: str = "all", **filters: object) -> set[str]:
    page = reader.search(text, view, per_page=100, **filters)  # type: ignore[arg-type]
    return {entry.item.guid or "" for entry in page.items}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("лента", {"ru-1", "ru-2"}),  # «ленту», «лентой», «лентами» too
        ("ленты", {"ru-1", "ru-2"}),
        ("feeding", {"en-1", "en-2", "b-1"}),  # feed, feeds, feeding
        ("feeds", {"en-1", "en-2", "b-1"}),
        ('"open source"', {"en-2", "b-1"}),  # the words in a row, not b-2's "Open the file, read the source"
        ("open source", {"en-2", "b-1", "b-2"}),
        ("лен*", {"ru-1", "ru-2"}),
        ("sour*", {"en-2", "b-1", "b-2"}),
        ("читатель", {"ru-1"}),
        ("дождь солнце", {"ru-3"}),
        ("дождь feeds", set()),
        ("Погода", {"ru-3"}),  # titles are searched too
        ("nothing-like-this", set()),
    ],
)
def test_the_same_query_finds_the_same_items_on_both_backends(ann: Reader, query: str, expected: set[str]) -> None:
    assert hits(ann, query) == expected


def test_filters_narrow_a_search(ann: Reader, site: Lenta) -> None:
    news = next(f for f in ann.followed() if f.title == "News")
    blog = next(f for f in ann.followed() if f.title == "Blog")
    work = ann.folders()[0]
    assert hits(ann, "feeds", subscription_id=news.id) == {"en-1", "en-2"}
    assert hits(ann, "feeds", subscription_id=blog.id) == {"b-1"}
    assert hits(ann, "open", folder_id=work.id) == {"b-1", "b-2"}
    assert hits(ann, "feeds", since=DAY + timedelta(days=5)) == {"en-2", "b-1"}
    assert hits(ann, "feeds", until=DAY + timedelta(days=5)) == {"en-1"}
    en_2 = next(e.item.id for e in ann.search("feeds", per_page=10).items if e.item.guid == "en-2")
    ann.mark_read([en_2])
    assert hits(ann, "feeds", "unread") == {"en-1", "b-1"}
    ann.star(en_2)
    assert hits(ann, "feeds", "starred") == {"en-2"}
    tag = ann.add_tag("keep")
    ann.tag_item(en_2, tag.id)
    assert hits(ann, "feeds", tag_id=tag.id) == {"en-2"}
    assert hits(ann, "open", tag_id=tag.id) == {"en-2"}


def test_results_are_ranked_and_paged(ann: Reader) -> None:
    first = ann.search("feeds", per_page=2)
    second = ann.search("feeds", per_page=2, page=1)
    assert len(first.items) == 2 and first.more
    assert len(second.items) == 1 and not second.more
    seen = [e.item.guid for e in first.items + second.items]
    assert sorted(seen, key=str) == sorted(["en-1", "en-2", "b-1"], key=str) and len(set(seen)) == 3
    # A title match outranks a body-only one on PostgreSQL (weights) and ties are broken by date on both.
    assert first.items[0].item.guid in {"en-2", "en-1"}


def test_only_followed_feeds_are_indexed_and_found(site: Lenta, feeds: LocalServer, ann: Reader) -> None:
    bob = site.reader(site.add_user("bob", "correct horse battery"))
    assert hits(bob, "feeds") == set()  # Ann's feeds are not Bob's
    followed = asyncio.run(bob.follow(feeds.url("/blog.xml")))
    assert hits(bob, "feeds") == {"b-1"}
    assert hits(ann, "feeds") == {"en-1", "en-2", "b-1"}
    # Ann leaves the news feed: nobody follows it, so its items leave the index; a rebuild agrees.
    news = next(f for f in ann.followed() if f.title == "News")
    ann.unfollow(news.id)
    assert hits(ann, "feeds") == {"b-1"}
    assert site.rebuild_search_index() == len(BLOG)
    assert hits(ann, "feeds") == {"b-1"} and hits(bob, "feeds") == {"b-1"}
    bob.unfollow(followed.id)
    assert hits(ann, "open source") == {"b-1", "b-2"}


def test_new_and_changed_items_are_indexed_as_they_are_written(site: Lenta, feeds: LocalServer, ann: Reader) -> None:
    changed = [(guid, title, "<p>Now about gardening.</p>" if guid == "b-2" else body, days) for guid, title, body, days in BLOG]
    feeds.routes["/blog.xml"] = Reply(body=rss("Blog", [*changed, ("b-3", "Gardening", "<p>Tomatoes.</p>", 8)]), headers=RSS)
    asyncio.run(site.refresh(all_feeds=True))
    assert hits(ann, "gardening") == {"b-2", "b-3"}
    assert hits(ann, "read") == {"en-2"}  # b-2 no longer says "read the source"


def test_bad_queries_and_filters_are_refused(ann: Reader) -> None:
    for query in ("", "   ", '""', "!!!", "x" * 501, " ".join(f"w{n}" for n in range(17))):
        with pytest.raises(InvalidInputError):
            ann.search(query)
    with pytest.raises(InvalidInputError):
        ann.search("feeds", page=50)
    with pytest.raises(NotFollowingError):
        ann.search("feeds", subscription_id=10**9)
    # FTS5's and tsquery's operators are words like any other here.
    assert hits(ann, "feeds OR NOT NEAR") == set()
    assert hits(ann, "feeds & ! |") == {"en-1", "en-2", "b-1"}
    assert hits(ann, "(feeds) :* 'x'") == set()


def test_words_are_stemmed_by_their_alphabet() -> None:
    assert stems(words("Ленты ЛЕНТОЙ лентами")) == ["лент", "лент", "лент"]
    assert stems(words("Feeding feeds")) == ["feed", "feed"]
    query = parse_query('лента "open source" feed* -x')
    assert query.fts5() == '"лент" AND "open sourc" AND "feed" * AND "x"'
    assert query.tsquery() == "'лент' & ('open' <-> 'sourc') & 'feed':* & 'x'"
