"""Saved views as feeds (issue 11) through the facade and their storage, on
SQLite and on PostgreSQL: saving, publishing at a new token, revoking;
what a folder's, a search's and a tag's view shows (only what its owner
follows, newest first, paged as the aggregator pages); another user never
reaching a view; a deep page of a folder costing what the first does."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy import select
from test_paging import EDGES
from test_paging import NOW
from test_paging import build
from test_paging import cost
from test_paging import insert as insert_items

from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.exceptions import InvalidInputError
from lenta.exceptions import NotFollowingError
from lenta.reader import Reader
from lenta.saved_views import MAX_PAGES
from lenta.saved_views import TOKEN
from lenta.storage import Storage
from lenta.storage import _counts
from lenta.storage import open_storage
from lenta.storage._views import folder_page
from lenta.storage.schema import item_tags
from lenta.storage.schema import items
from lenta.storage.schema import tags
from lenta.types import User


@pytest.fixture
def site(backend_url: str, tmp_path: Path) -> Iterator[tuple[Lenta, Storage]]:
    """A facade and, under it, the same database opened again (to write items as a refresh does)."""
    settings = load_settings({}, db=backend_url, scheduler=False)
    instance = make_lenta(settings)
    storage = open_storage(backend_url)
    yield instance, storage
    storage.close()
    instance.close()


def user(lenta: Lenta, name: str) -> User:
    return lenta.add_user(name, "correct horse battery")


def feed(storage: Storage, name: str, dates: list[datetime]) -> str:
    """A feed with items dated ``dates`` (titles "name 0", "name 1", … in that order); its URL."""
    url = f"https://{name.lower()}.example/feed"
    feed_id = storage.feeds.add(url, now=NOW).id
    if dates:
        insert_items(storage, feed_id, dates)
    return url


def follow(reader: Reader, url: str, *folder_ids: int) -> int:
    """Follow a feed already stored (no fetch); its subscription's id."""
    return asyncio.run(reader.follow(url, folder_ids=folder_ids)).id


def reference(storage: Storage, feed_urls: list[str]) -> list[int]:
    """Item ids of these feeds as a page must show them, the plain way."""
    feed_ids = [storage.feeds.get_by_url(url).id for url in feed_urls]
    query = select(items.c.id).where(items.c.feed_id.in_(feed_ids)).order_by(items.c.date.desc(), items.c.id.desc())
    with storage.db.read() as connection:
        return list(connection.execute(query).scalars())


def hours_before(n: int) -> datetime:
    return NOW - timedelta(hours=n)


def test_save_publish_revoke_and_delete(site: tuple[Lenta, Storage]) -> None:
    lenta, storage = site
    ann = user(lenta, "ann")
    reader = lenta.reader(ann)
    news = reader.add_folder("News")
    follow(reader, feed(storage, "Alpha", [hours_before(n) for n in range(3)]), news.id)
    views = lenta.saved_views(ann)
    saved = views.save_folder(news.id)
    assert (saved.name, saved.kind, saved.folder_id, saved.token) == ("News", "folder", news.id, None)
    with pytest.raises(NotFollowingError):  # not published: no address
        lenta.published_view("x" * 43)

    first = views.publish(saved.id)
    assert first.token is not None and TOKEN.fullmatch(first.token) and len(first.token) >= 32
    shown = lenta.published_view(first.token)
    assert shown.name == "News" and shown.page(0).total == 3
    # Publishing again: a new address, the old one gone.
    second = views.publish(saved.id)
    assert second.token is not None and second.token != first.token
    with pytest.raises(NotFollowingError):
        lenta.published_view(first.token)
    assert lenta.published_view(second.token).page(0).total == 3
    # Revoked: no address at all.
    assert views.revoke(saved.id).token is None
    with pytest.raises(NotFollowingError):
        lenta.published_view(second.token)

    renamed = views.rename(saved.id, "  World   news ")
    assert renamed.name == "World news" and [v.name for v in views.list()] == ["World news"]
    with pytest.raises(InvalidInputError):
        views.rename(saved.id, "   ")
    with pytest.raises(InvalidInputError):
        views.rename(saved.id, "x" * 256)
    third = views.publish(saved.id)
    views.delete(saved.id)
    assert views.list() == []
    assert third.token is not None
    with pytest.raises(NotFollowingError):
        lenta.published_view(third.token)
    # Malformed tokens are no tokens: not looked up.
    for token in ("", "short", "x" * 65, "../../etc/passwd" + "x" * 30, "x" * 40 + ".rss"):
        with pytest.raises(NotFollowingError):
            lenta.published_view(token)


def test_searches_are_checked_and_named(site: tuple[Lenta, Storage]) -> None:
    lenta, _ = site
    views = lenta.saved_views(user(lenta, "ann"))
    with pytest.raises(InvalidInputError):
        views.save_search("   ")
    with pytest.raises(InvalidInputError):
        views.save_search("x" * 501)
    saved = views.save_search('  "feed  reader"   lenta* ')
    assert saved.name == '"feed reader" lenta*' and saved.query == saved.name and saved.folder_id is None
    assert views.save_search("lenta", name="Mine").name == "Mine"


def test_a_folder_view_pages_newest_first_with_only_the_owners_feeds(site: tuple[Lenta, Storage]) -> None:
    """45 items in a folder and its sub-folder: page 0 the newest 20, page 2
    the oldest 5; a feed the owner follows outside the folder, and one only
    another reader follows, never show."""
    lenta, storage = site
    ann, bob = user(lenta, "ann"), user(lenta, "bob")
    annr, bobr = lenta.reader(ann), lenta.reader(bob)
    news = annr.add_folder("News")
    sub = annr.add_folder("Sub", news.id)
    bobs = bobr.add_folder("News")
    same = hours_before(100)
    alpha = feed(storage, "Alpha", [hours_before(2 * n) for n in range(25)] + [same] * 3)
    beta = feed(storage, "Beta", [hours_before(2 * n + 1) for n in range(15)] + [same] * 2)
    outside = feed(storage, "Outside", [hours_before(n) for n in range(10)])
    private = feed(storage, "Private", [hours_before(n) for n in range(10)])
    follow(annr, alpha, news.id)
    follow(annr, beta, sub.id, news.id)  # in both: counted once
    follow(annr, outside)
    follow(bobr, private, bobs.id)
    views = lenta.saved_views(ann)
    saved = views.publish(views.save_folder(news.id).id)
    assert saved.token is not None
    shown = lenta.published_view(saved.token)
    expected = reference(storage, [alpha, beta])
    assert len(expected) == 45
    pages = [shown.page(n) for n in range(4)]
    assert [p.total for p in pages] == [45] * 4 and pages[0].page_count == 3
    assert [[item.id for item in p.items] for p in pages] == [expected[:20], expected[20:40], expected[40:], []]
    assert {item.feed_title for p in pages for item in p.items} <= {"https://alpha.example/feed", "https://beta.example/feed"}
    assert views.page(saved.id, 2).items == pages[2].items  # the owner's preview: the same
    # The sub-folder alone; the owner stops following a feed: its items go.
    assert len(lenta.published_view(saved.token).latest(100)) == 45
    sub_view = views.save_folder(sub.id)
    assert [item.id for item in views.page(sub_view.id, 0, 100).items] == reference(storage, [beta])
    annr.unfollow(next(f.id for f in annr.followed() if f.url == alpha))
    assert [item.id for item in shown.page(0, 100).items] == reference(storage, [beta])
    # Bob's folder and his feed are his: his view shows them, Ann's never did.
    bob_view = lenta.saved_views(bob).save_folder(bobs.id)
    assert [item.id for item in lenta.saved_views(bob).page(bob_view.id, 0, 100).items] == reference(storage, [private])


def test_every_page_of_a_folder_equals_order_by_offset(site: tuple[Lenta, Storage]) -> None:
    """Many feeds, dates on bucket edges, before 1970, at the ends of the
    calendar, ties: each page is what ORDER BY date DESC, id DESC LIMIT
    OFFSET gives over the folder's feeds."""
    lenta, storage = site
    ann = user(lenta, "ann")
    reader = lenta.reader(ann)
    folder = reader.add_folder("All")
    rnd = random.Random(11)
    urls = []
    for n in range(6):
        dates = [*EDGES[n::3], *([hours_before(72)] * 4)]
        dates += [hours_before(rnd.randrange(0, 24 * 400)) for _ in range(20)]
        rnd.shuffle(dates)
        url = feed(storage, f"F{n}", dates[:12])
        insert_items(storage, storage.feeds.get_by_url(url).id, dates[12:])  # a second fetch: ids interleave
        urls.append(url)
    for url in urls[:5]:
        follow(reader, url, folder.id)
    follow(reader, urls[5])  # followed, not in the folder
    views = lenta.saved_views(ann)
    saved = views.save_folder(folder.id)
    expected = reference(storage, urls[:5])
    for per_page in (1, 7, 20):
        count = -(-len(expected) // per_page)
        for number in range(count + 1):
            page = views.page(saved.id, number, per_page)
            assert [item.id for item in page.items] == expected[number * per_page : (number + 1) * per_page], (per_page, number)
            assert page.total == len(expected)


def test_locating_a_page_of_many_feeds_agrees_with_the_counts(storage: Storage) -> None:
    """The storage function behind a folder's pages, alone: a window for
    every offset that holds exactly the items a plain OFFSET gives."""
    feeds = [storage.feeds.add(f"https://{n}.example/", now=NOW).id for n in range(4)]
    for n, feed_id in enumerate(feeds):
        insert_items(storage, feed_id, [NOW - timedelta(seconds=4096 * k + n) for k in range(15)] + list(EDGES[n::4]))
    chosen = feeds[:3]
    expected = reference(storage, [storage.feeds.get(feed_id).url for feed_id in chosen])
    with storage.db.read() as connection:
        assert _counts.total_of_feeds(connection, chosen) == len(expected)
        assert _counts.locate_feeds(connection, chosen, len(expected), 5) == (len(expected), None)
        assert _counts.locate_feeds(connection, [], 0, 5) == (0, None)
        for offset in range(len(expected)):
            total, found = folder_page(connection, chosen, offset, 5)
            assert total == len(expected)
            assert [item.id for item in found] == expected[offset : offset + 5], offset
            _, window = _counts.locate_feeds(connection, chosen, offset, 5)
            assert window is not None and window.skip < 40, (offset, window)  # less than a fine bucket of these feeds


def test_a_deep_page_of_a_folder_costs_what_the_first_does(storage: Storage) -> None:
    """The last page of a folder of 30 feeds and 9,600 items costs about
    what the first does (SQLite's VM instructions; PostgreSQL's rows read
    from items): found from the counts, not by walking the items before
    it. An OFFSET walk, or counting the items, fails it."""
    feeds = [storage.feeds.add(f"https://{n}.example/", now=NOW).id for n in range(30)]
    build(storage, feeds, 320, newest=NOW, days=600)
    with storage.db.read() as connection:
        total, _ = folder_page(connection, feeds, 0, 20)
    assert total == 9600
    last = (total - 1) // 20

    def page(number: int) -> Callable[[], object]:
        def read() -> object:
            with storage.db.read() as connection:
                return folder_page(connection, feeds, number * 20, 20)

        return read

    first_cost, middle_cost, last_cost = cost(storage, page(0)), cost(storage, page(last // 2)), cost(storage, page(last))
    assert last_cost <= 1.5 * first_cost + 10, (first_cost, middle_cost, last_cost)
    assert middle_cost <= 1.5 * first_cost + 10, (first_cost, middle_cost, last_cost)
    if not storage.db.is_sqlite:
        assert max(first_cost, middle_cost, last_cost) <= 200, ("rows read from items for one page of 9,600", last_cost)


def test_a_search_view_shows_the_owners_matches_newest_first(site: tuple[Lenta, Storage]) -> None:
    lenta, storage = site
    ann, bob = user(lenta, "ann"), user(lenta, "bob")
    annr, bobr = lenta.reader(ann), lenta.reader(bob)
    folder = annr.add_folder("Some")
    # Titles are "Title k…": every item matches "title"; "k1*" only some.
    mine = feed(storage, "Mine", [hours_before(n) for n in range(30)])
    other = feed(storage, "Other", [hours_before(n) for n in range(8)])
    theirs = feed(storage, "Theirs", [hours_before(n) for n in range(5)])
    follow(annr, mine, folder.id)
    follow(annr, other)
    follow(bobr, theirs)
    views = lenta.saved_views(ann)
    everything = views.save_search("title")
    in_folder = views.save_search("title", folder_id=folder.id)
    first = views.page(everything.id, 0)
    assert first.total == 38 and len(first.items) == 20
    ids = [item.id for p in range(2) for item in views.page(everything.id, p).items]
    assert ids == reference(storage, [mine, other])  # newest first, Bob's feed never
    assert [item.id for item in views.page(in_folder.id, 0, 100).items] == reference(storage, [mine])
    with pytest.raises(NotFollowingError):
        views.save_search("title", folder_id=bobr.add_folder("Bob's").id)


def test_search_pages_are_bounded(site: tuple[Lenta, Storage]) -> None:
    lenta, storage = site
    ann = user(lenta, "ann")
    follow(lenta.reader(ann), feed(storage, "Many", [hours_before(n) for n in range(60)]))
    views = lenta.saved_views(ann)
    saved = views.save_search("title")
    page = views.page(saved.id, 0, 1)
    assert page.total == MAX_PAGES and page.page_count == MAX_PAGES  # hits past the bound are not counted
    assert views.page(saved.id, MAX_PAGES - 1, 1).items and not views.page(saved.id, MAX_PAGES, 1).items
    with pytest.raises(InvalidInputError):
        views.page(saved.id, -1)


def test_a_tag_view_shows_the_owners_tagged_items_of_feeds_they_follow(site: tuple[Lenta, Storage]) -> None:
    """Ann's tags put on through her reader; Bob's on the same items (as if
    he had followed their feeds once), written straight into ``item_tags``:
    his, never in her view."""
    lenta, storage = site
    ann, bob = user(lenta, "ann"), user(lenta, "bob")
    annr = lenta.reader(ann)
    kept = feed(storage, "Kept", [hours_before(n) for n in range(6)])
    dropped = feed(storage, "Dropped", [hours_before(n) for n in range(4)])
    follow(annr, kept)
    dropped_subscription = follow(annr, dropped)
    best = annr.add_tag("Best")
    every = reference(storage, [kept, dropped])
    for item_id in every[::2]:
        annr.tag_item(item_id, best.id)
    with storage.db.write() as connection:
        bob_tag = connection.execute(insert(tags).values(user_id=bob.id, name="Bob's").returning(tags.c.id)).scalar_one()
        rows = connection.execute(select(items.c.id, items.c.date)).all()
        connection.execute(
            insert(item_tags), [{"tag_id": bob_tag, "item_id": r.id, "user_id": bob.id, "date": r.date} for r in rows]
        )
    views = lenta.saved_views(ann)
    assert [t.name for t in views.tags()] == ["Best"]
    with pytest.raises(NotFollowingError):
        views.save_tag(bob_tag)
    saved = views.save_tag(best.id)
    assert saved.name == "Best" and saved.kind == "tag"
    assert [item.id for item in views.page(saved.id, 0, 100).items] == every[::2]
    assert [item.id for item in views.page(saved.id, 1, 2).items] == every[::2][2:4]
    annr.unfollow(dropped_subscription)  # tagged items of a feed she no longer follows: gone from the view
    kept_ids = set(reference(storage, [kept]))
    assert [item.id for item in views.page(saved.id, 0, 100).items] == [i for i in every[::2] if i in kept_ids]
    annr.delete_tag(best.id)  # the tag gone, its view goes with it
    assert views.list() == []


def test_another_user_never_reaches_a_view(site: tuple[Lenta, Storage]) -> None:
    lenta, storage = site
    ann, bob = user(lenta, "ann"), user(lenta, "bob")
    annr = lenta.reader(ann)
    folder = annr.add_folder("Mine")
    follow(annr, feed(storage, "Alpha", [hours_before(1)]), folder.id)
    anns = lenta.saved_views(ann)
    saved = anns.publish(anns.save_folder(folder.id).id)
    bobs = lenta.saved_views(bob)
    attempts: list[Callable[[], object]] = [
        lambda: bobs.get(saved.id),
        lambda: bobs.rename(saved.id, "mine now"),
        lambda: bobs.publish(saved.id),
        lambda: bobs.revoke(saved.id),
        lambda: bobs.delete(saved.id),
        lambda: bobs.page(saved.id),
        lambda: bobs.save_folder(folder.id),
        lambda: bobs.save_search("title", folder_id=folder.id),
    ]
    for attempt in attempts:
        with pytest.raises(NotFollowingError):
            attempt()
    assert bobs.list() == [] and bobs.folders() == []
    assert anns.get(saved.id) == saved  # untouched
    assert saved.token is not None and lenta.published_view(saved.token).page(0).total == 1


def test_a_user_keeps_a_bounded_number_of_views(site: tuple[Lenta, Storage], monkeypatch: pytest.MonkeyPatch) -> None:
    from lenta import saved_views

    lenta, _ = site
    monkeypatch.setattr(saved_views, "MAX_VIEWS", 3)
    views = lenta.saved_views(user(lenta, "ann"))
    for n in range(3):
        views.save_search(f"word{n}")
    with pytest.raises(InvalidInputError):
        views.save_search("one more")
    assert len(views.list()) == 3
