"""The personal reader (issue 11) through the facade, on SQLite and on
PostgreSQL: following, unread and starred, folders, marking all read
while items arrive, retention, and one user never reaching another's data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from httpserver import LocalServer
from httpserver import Reply

from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.exceptions import AlreadyFollowingError
from lenta.exceptions import FeedNotFoundError
from lenta.exceptions import InvalidInputError
from lenta.exceptions import NotFollowingError
from lenta.reader import Reader
from lenta.storage import open_storage
from lenta.types import User

RSS = {"Content-Type": "application/rss+xml"}
NEWEST = datetime(2026, 11, 1, tzinfo=UTC)


def feed_xml(title: str, numbers: range) -> bytes:
    items = "".join(
        f"<item><title>{title} {n}</title><link>https://example.com/{title}/{n}</link><guid>{title}-{n}</guid>"
        f"<pubDate>{format_datetime(NEWEST + timedelta(hours=n), usegmt=True)}</pubDate>"
        f"<description>&lt;p&gt;Body {n}&lt;/p&gt;</description></item>"
        for n in numbers
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.com/{title}</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def feeds() -> Iterator[LocalServer]:
    routes = {
        "/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 6)), headers=RSS),
        "/beta.xml": Reply(body=feed_xml("Beta", range(1, 4)), headers=RSS),
        "/gamma.xml": Reply(body=feed_xml("Gamma", range(1, 3)), headers=RSS),
    }
    with LocalServer(routes) as server:
        yield server


@pytest.fixture
def site(backend_url: str, tmp_path: Path) -> Iterator[Lenta]:
    settings = load_settings(
        {}, db=backend_url, fetch_allow="127.0.0.1,::1", scheduler=False, host_interval=0.0, fetch_timeout=5.0
    )
    instance = make_lenta(settings)
    yield instance
    instance.close()


def user(site: Lenta, name: str) -> User:
    return site.add_user(name, "correct horse battery")


def reader_of(site: Lenta, name: str) -> Reader:
    return site.reader(user(site, name))


def titles(reader: Reader, view: str = "unread", **scope: int) -> list[str]:
    return [entry.item.title or "" for entry in reader.items(view, per_page=200, **scope).items]  # type: ignore[arg-type]


def test_following_a_feed_someone_publishes_fetches_nothing(site: Lenta, feeds: LocalServer) -> None:
    published = asyncio.run(site.add_and_fetch(feeds.url("/alpha.xml")))
    fetched = len(feeds.requests)
    ann = reader_of(site, "ann")
    followed = asyncio.run(ann.follow(feeds.url("/alpha.xml")))
    assert len(feeds.requests) == fetched  # one feed, fetched once however many follow it
    assert followed.feed_id == published.id
    assert followed.unread == 5 and ann.unread_total() == 5
    assert titles(ann) == [f"Alpha {n}" for n in (5, 4, 3, 2, 1)]
    with pytest.raises(AlreadyFollowingError):
        asyncio.run(ann.follow(feeds.url("/alpha.xml")))


def test_a_feed_only_a_reader_follows_stays_off_the_public_pages(site: Lenta, feeds: LocalServer) -> None:
    asyncio.run(site.add_and_fetch(feeds.url("/alpha.xml")))
    ann = reader_of(site, "ann")
    mine = asyncio.run(ann.follow(feeds.url("/beta.xml")))
    assert mine.unread == 3
    beta = site.get_feed(mine.feed_id)
    assert not beta.published
    public = site.items_page(0, 50)
    assert public.total == 5 and {item.feed_id for item in public.items} == {site.get_feed(feeds.url("/alpha.xml")).id}
    assert [feed.id for feed in site.sources_page().items] == [site.get_feed(feeds.url("/alpha.xml")).id]
    # Published by the admin, its items join the river (and its counts: page totals agree).
    site.publish_feed(beta.id)
    assert site.items_page(0, 50).total == 8 and len(site.items_page(0, 50).items) == 8
    site.publish_feed(beta.id, False)
    assert site.items_page(0, 50).total == 5 and len(site.items_page(0, 50).items) == 5


def test_read_unread_and_starred(site: Lenta, feeds: LocalServer) -> None:
    ann = reader_of(site, "ann")
    alpha = asyncio.run(ann.follow(feeds.url("/alpha.xml")))
    entries = ann.items("unread").items
    newest, second = entries[0].item.id, entries[1].item.id
    assert ann.mark_read([newest, second]) == 2
    assert ann.mark_read([newest]) == 0  # already read: nothing counted twice
    assert ann.subscription(alpha.id).unread == 3
    assert titles(ann) == ["Alpha 3", "Alpha 2", "Alpha 1"]
    assert ann.mark_unread([second]) == 1
    assert ann.subscription(alpha.id).unread == 4
    ann.star(newest)
    assert titles(ann, "starred") == ["Alpha 5"]
    assert ann.item(newest).read and ann.item(newest).starred
    ann.star(newest, False)
    assert titles(ann, "starred") == []
    assert [e.read for e in ann.items("all").items] == [True, False, False, False, False]


def test_marking_all_read_leaves_what_arrived_after_the_list_was_shown(site: Lenta, feeds: LocalServer) -> None:
    ann = reader_of(site, "ann")
    alpha = asyncio.run(ann.follow(feeds.url("/alpha.xml")))
    shown = ann.items("unread")
    # A new item arrives while the reader looks at the list.
    feeds.routes["/alpha.xml"] = Reply(body=feed_xml("Alpha", range(1, 7)), headers=RSS)
    asyncio.run(site.refresh([alpha.feed_id]))
    assert ann.subscription(alpha.id).unread == 6
    ann.mark_all_read(through=shown.through)
    assert titles(ann) == ["Alpha 6"]
    assert ann.subscription(alpha.id).unread == 1 and ann.unread_total() == 1
    # An item marked unread before stays read once everything up to it is marked read.
    oldest = ann.items("all", oldest_first=True).items[0].item.id
    ann.mark_unread([oldest])
    assert ann.subscription(alpha.id).unread == 2
    ann.mark_all_read(through=ann.items("unread").through, subscription_id=alpha.id)
    assert titles(ann) == [] and ann.subscription(alpha.id).unread == 0


def test_folders_nest_and_a_feed_may_be_in_several(site: Lenta, feeds: LocalServer) -> None:
    ann = reader_of(site, "ann")
    news = ann.add_folder("News")
    tech = ann.add_folder("Tech", news.id)
    fun = ann.add_folder("Fun")
    alpha = asyncio.run(ann.follow(feeds.url("/alpha.xml"), folder_ids=[tech.id]))
    beta = asyncio.run(ann.follow(feeds.url("/beta.xml")))
    ann.file(beta.id, [news.id, fun.id])
    assert set(ann.subscription(beta.id).folder_ids) == {news.id, fun.id}
    assert len(titles(ann, folder_id=news.id)) == 8  # its own feed and its child's
    assert len(titles(ann, folder_id=tech.id)) == 5
    assert len(titles(ann, folder_id=fun.id)) == 3
    assert len(titles(ann, subscription_id=alpha.id)) == 5
    with pytest.raises(InvalidInputError):
        ann.change_folder(news.id, "News", tech.id)  # inside its own child
    with pytest.raises(InvalidInputError):
        ann.add_folder("tech", news.id)  # the same name beside it
    with pytest.raises(InvalidInputError):
        ann.add_folder("   ")
    ann.mark_all_read(through=ann.items("unread").through, folder_id=tech.id)
    assert ann.subscription(alpha.id).unread == 0 and ann.subscription(beta.id).unread == 3
    ann.delete_folder(news.id)  # and Tech inside it; the subscriptions stay
    assert [f.name for f in ann.folders()] == ["Fun"]
    assert len(ann.followed()) == 2 and ann.subscription(beta.id).folder_ids == (fun.id,)


def test_paging_by_cursor_walks_every_item_once(site: Lenta, feeds: LocalServer) -> None:
    ann = reader_of(site, "ann")
    for path in ("/alpha.xml", "/beta.xml", "/gamma.xml"):
        asyncio.run(ann.follow(feeds.url(path)))
    for oldest_first in (False, True):
        seen: list[int] = []
        page = ann.items("all", per_page=3, oldest_first=oldest_first)
        while True:
            seen.extend(entry.item.id for entry in page.items)
            if page.next is None:
                break
            page = ann.items("all", per_page=3, after=page.next, oldest_first=oldest_first)
        dates = [ann.item(item_id).item.date for item_id in seen]
        assert len(seen) == len(set(seen)) == 10
        assert dates == sorted(dates, reverse=not oldest_first)


def test_one_reader_never_reaches_anothers_data(site: Lenta, feeds: LocalServer) -> None:
    ann, bob = reader_of(site, "ann"), reader_of(site, "bob")
    alpha = asyncio.run(ann.follow(feeds.url("/alpha.xml")))
    folder = ann.add_folder("Private")
    item_id = ann.items("unread").items[0].item.id
    ann.star(item_id)
    attempts: list[Callable[[], object]] = [
        lambda: bob.subscription(alpha.id),
        lambda: bob.rename(alpha.id, "mine now"),
        lambda: bob.file(alpha.id, []),
        lambda: bob.unfollow(alpha.id),
        lambda: bob.items("all", subscription_id=alpha.id),
        lambda: bob.items("all", folder_id=folder.id),
        lambda: bob.folder(folder.id),
        lambda: bob.change_folder(folder.id, "x", None),
        lambda: bob.delete_folder(folder.id),
        lambda: bob.add_folder("Inside yours", folder.id),
        lambda: bob.item(item_id),
        lambda: bob.mark_read([item_id]),
        lambda: bob.star(item_id),
        lambda: bob.mark_all_read(through=10**9, subscription_id=alpha.id),
    ]
    for attempt in attempts:
        with pytest.raises(NotFollowingError):
            attempt()
    assert bob.followed() == [] and bob.folders() == [] and bob.unread_total() == 0
    assert bob.items("all").items == () and bob.items("starred").items == ()
    # Nothing of Ann's changed.
    assert ann.subscription(alpha.id).title == "Alpha" and ann.subscription(alpha.id).unread == 5
    assert [f.name for f in ann.folders()] == ["Private"] and ann.item(item_id).starred
    # Following the same feed, Bob has his own state.
    asyncio.run(bob.follow(feeds.url("/alpha.xml")))
    assert bob.unread_total() == 5 and bob.items("starred").items == ()
    bob.mark_all_read(through=bob.items("unread").through)
    assert bob.unread_total() == 0 and ann.unread_total() == 5


def test_unfollowing_drops_a_feed_nobody_reads_unless_published(site: Lenta, feeds: LocalServer) -> None:
    asyncio.run(site.add_and_fetch(feeds.url("/alpha.xml")))
    ann, bob = reader_of(site, "ann"), reader_of(site, "bob")
    public = asyncio.run(ann.follow(feeds.url("/alpha.xml")))
    private = asyncio.run(ann.follow(feeds.url("/beta.xml")))
    shared = asyncio.run(bob.follow(feeds.url("/beta.xml")))
    ann.unfollow(private.id)
    assert site.get_feed(private.feed_id)  # Bob still reads it
    bob.unfollow(shared.id)
    with pytest.raises(FeedNotFoundError):
        site.get_feed(private.feed_id)
    ann.unfollow(public.id)
    assert site.get_feed(public.feed_id).published


def test_retention_keeps_starred_items_and_recounts_unread(site: Lenta, feeds: LocalServer, backend_url: str) -> None:
    ann = reader_of(site, "ann")
    alpha = asyncio.run(ann.follow(feeds.url("/alpha.xml")))
    oldest_two = [entry.item.id for entry in ann.items("all", oldest_first=True, per_page=2).items]
    ann.star(oldest_two[0])
    ann.mark_read([oldest_two[1]])
    assert ann.subscription(alpha.id).unread == 4
    # Retention as a refresh runs it, with a cutoff after Alpha 2: Alpha 1
    # (starred) stays, Alpha 2 (read) goes.
    storage = open_storage(backend_url)
    try:
        assert storage.items.delete_older_than(NEWEST + timedelta(hours=2, minutes=30)) == 1
    finally:
        storage.close()
    remaining = [entry.item.title for entry in ann.items("all", oldest_first=True).items]
    assert remaining == ["Alpha 1", "Alpha 3", "Alpha 4", "Alpha 5"]
    assert ann.subscription(alpha.id).unread == 4  # Alpha 1, 3, 4, 5: the read one was deleted


def test_bad_input_is_refused_with_a_clear_error(site: Lenta, feeds: LocalServer) -> None:
    ann = reader_of(site, "ann")
    with pytest.raises(InvalidInputError):
        asyncio.run(ann.follow(feeds.url("/alpha.xml").replace("http://", "http://user:secret@")))
    with pytest.raises(InvalidInputError):
        ann.items("everything")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        ann.add_folder("x" * 300)
    folder = ann.add_folder("One")
    with pytest.raises(InvalidInputError):
        ann.items("all", subscription_id=1, folder_id=folder.id)
