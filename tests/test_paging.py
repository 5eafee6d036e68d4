"""Listing pages at any depth (issue 10), on SQLite and PostgreSQL:

- every page of the river, of a feed and of a category is what a plain
  ORDER BY date DESC, id DESC … LIMIT … OFFSET gives, dates equal or not,
  on bucket edges, before 1970, at the ends of the calendar;
- the item counts behind them equal a count of the items after any mix of
  inserts, date changes, retention, removals, category changes and
  deletions (hypothesis), and after the migration that backfills them;
- a deep page costs about what the first does: no query on the request
  path walks or counts all items (SQLite's VM instructions, PostgreSQL's
  rows read by EXPLAIN ANALYZE);
- /aggregator/sources and /aggregator/categories have Drupal's pager.
"""

from __future__ import annotations

import calendar
import functools
import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from pagetext import parse_page
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import text
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.storage import Storage
from lenta.storage import open_storage
from lenta.storage.records import FeedChanges
from lenta.storage.records import ItemRecord
from lenta.storage.schema import category_items
from lenta.storage.schema import feed_categories
from lenta.storage.schema import items
from lenta.web import create_app

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
FINE = 2**12  # seconds a fine bucket spans (lenta.storage._counts), written out to test it
COARSE = 2**20
COARSE_EDGE = datetime.fromtimestamp(1621 * COARSE, tz=UTC)  # 2023-11-11, where a coarse bucket begins
MICRO = timedelta(microseconds=1)
# Dates that sit where a mistake in the buckets would show: on and next to
# bucket edges, before 1970 (rounding down, not toward zero), at the ends
# of what a datetime holds.
EDGES = (
    COARSE_EDGE,
    COARSE_EDGE - MICRO,
    COARSE_EDGE + MICRO,
    COARSE_EDGE - timedelta(seconds=1),
    COARSE_EDGE + timedelta(seconds=FINE),
    COARSE_EDGE + timedelta(seconds=FINE) - MICRO,
    COARSE_EDGE + timedelta(seconds=3 * FINE, microseconds=500_000),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC) - MICRO,
    datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
    datetime(1969, 12, 31, 22, 51, 44, tzinfo=UTC),  # -4096 s: a fine edge before 1970
    datetime(1903, 7, 4, 12, 0, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
)
_keys = itertools.count()


def record(date: datetime, key: str | None = None, body: int = 0) -> ItemRecord:
    key = key or f"k{next(_keys)}"
    return ItemRecord(
        key=key,
        hash=f"h-{key}",
        guid=key,
        link=None,
        title=f"Title {key}",
        author=None,
        published_at=date,
        updated_at=None,
        date=date,
        content=f"<p>{key}{' lorem ipsum' * (body // 12)}</p>",
        summary=None,
    )


def insert(storage: Storage, feed_id: int, dates: list[datetime]) -> None:
    """New items through the batch writer's path (Storage.apply_feed_writes)."""
    with storage.db.write() as connection:
        storage.apply_feed_writes(connection, [(feed_id, FeedChanges(), tuple(map(record, dates)), None)], {}, NOW)


def redate(storage: Storage, feed_id: int, item_id: int, key: str, date: datetime) -> None:
    """An item changed upstream, its date with it (the batch writer's path)."""
    with storage.db.write() as connection:
        storage.apply_feed_writes(connection, [(feed_id, FeedChanges(), (), None)], {item_id: record(date, key)}, NOW)


def reference(storage: Storage, *, feed_id: int | None = None, category_id: int | None = None) -> list[int]:
    """Item ids as the listing must show them, the plain way."""
    query = select(items.c.id).order_by(items.c.date.desc(), items.c.id.desc())
    if feed_id is not None:
        query = query.where(items.c.feed_id == feed_id)
    if category_id is not None:
        query = query.where(
            items.c.feed_id.in_(select(feed_categories.c.feed_id).where(feed_categories.c.category_id == category_id))
        )
    with storage.db.read() as connection:
        return list(connection.execute(query).scalars())


def assert_pages_match(storage: Storage, per_page: int, **scope: int) -> None:
    expected = reference(storage, **scope)
    pages = -(-len(expected) // per_page)
    for number in range(pages + 1):  # and one past the end: empty
        page = storage.items.page(number, per_page, **scope)
        window = expected[number * per_page : (number + 1) * per_page]
        assert [item.id for item in page.items] == window, (scope, per_page, number)
        assert page.total == len(expected), scope


def buckets_of(date: datetime) -> tuple[tuple[int, int], ...]:
    """(level, bucket) of a date, computed apart from lenta's code: whole
    seconds rounded down (timegm drops the fraction of a calendar time)."""
    seconds = calendar.timegm(date.utctimetuple())
    return ((0, 0), (1, seconds // COARSE), (2, seconds // FINE))


def assert_counts_exact(storage: Storage) -> None:
    """The three count tables hold exactly what counting the items gives,
    and category_items files each item under each category of its feed,
    with its date."""
    expected: dict[str, Counter[tuple[int, ...]]] = {name: Counter() for name in ("site", "feed", "category")}
    filed: set[tuple[int, int, datetime]] = set()
    with storage.db.read() as connection:
        members: dict[int, list[int]] = {}
        for feed_id, category_id in connection.execute(select(feed_categories.c.feed_id, feed_categories.c.category_id)):
            members.setdefault(feed_id, []).append(category_id)
        for item_id, feed_id, date in connection.execute(select(items.c.id, items.c.feed_id, items.c.date)):
            filed.update((category_id, item_id, date) for category_id in members.get(feed_id, ()))
            for level, bucket in buckets_of(date):
                expected["site"][(level, bucket)] += 1
                expected["feed"][(feed_id, level, bucket)] += 1
                for category_id in members.get(feed_id, ()):
                    expected["category"][(category_id, level, bucket)] += 1
        c = category_items.c
        assert {tuple(row) for row in connection.execute(select(c.category_id, c.item_id, c.date))} == filed
        stored = {
            "site": connection.execute(text("SELECT level, bucket, n FROM item_counts")).all(),
            "feed": connection.execute(text("SELECT feed_id, level, bucket, n FROM feed_item_counts")).all(),
            "category": connection.execute(text("SELECT category_id, level, bucket, n FROM category_item_counts")).all(),
        }
    for name, rows in stored.items():
        assert all(row[-1] > 0 for row in rows), (name, "rows at zero or below are kept")
        assert {tuple(row[:-1]): row[-1] for row in rows} == dict(expected[name]), name


# -- pages against the plain query ------------------------------------------------


def test_every_page_equals_order_by_offset(storage: Storage) -> None:
    rnd = random.Random(10)
    feeds = [storage.feeds.add(f"https://{n}.example/feed", now=NOW).id for n in range(5)]
    a, b, empty, d = (storage.categories.add(title).id for title in ("A", "B", "Empty", "D"))
    for feed_id, cats in zip(feeds, ([a], [a], [a, b], [b], [d])):
        storage.feeds.change(feed_id, FeedChanges(), category_ids=cats)
    same = NOW - timedelta(days=3)
    for n, feed_id in enumerate(feeds):
        dates = [*EDGES[n::2], *([same] * 9)]  # ties on the date: newest id first
        dates += [COARSE_EDGE + timedelta(seconds=rnd.randrange(-86400 * 400, 86400 * 400)) for _ in range(25)]
        dates += [COARSE_EDGE + timedelta(seconds=FINE * rnd.randrange(-3, 3)) for _ in range(6)]  # more on the edges
        rnd.shuffle(dates)
        insert(storage, feed_id, dates[:30])
        insert(storage, feed_id, dates[30:])  # a second fetch: ids interleave with other feeds'
    for per_page in (1, 7, 20):
        assert_pages_match(storage, per_page)
    for per_page in (3, 20):
        for feed_id in feeds:
            assert_pages_match(storage, per_page, feed_id=feed_id)
        for category_id in (a, b, empty, d):
            assert_pages_match(storage, per_page, category_id=category_id)
    assert storage.items.page(0, 20, category_id=empty).total == 0
    assert_counts_exact(storage)


def test_latest_per_feed_is_each_feeds_newest(storage: Storage) -> None:
    feeds = [storage.feeds.add(f"https://{n}.example/feed", now=NOW).id for n in range(3)]
    same = NOW - timedelta(hours=5)
    insert(storage, feeds[0], [NOW - timedelta(days=n) for n in range(10)])
    insert(storage, feeds[1], [same, same, same, *EDGES[:4]])
    latest = storage.items.latest_per_feed([feeds[2], *feeds], 3)  # a repeated id is one feed
    assert list(latest) == [feeds[2], feeds[0], feeds[1]]
    for feed_id in feeds:
        assert [item.id for item in latest[feed_id]] == reference(storage, feed_id=feed_id)[:3]
    assert latest[feeds[2]] == []
    assert storage.items.latest_per_feed(feeds, 0) == {feed_id: [] for feed_id in feeds}


def test_latest_per_category_is_each_categorys_newest(storage: Storage) -> None:
    feeds = [storage.feeds.add(f"https://{n}.example/feed", now=NOW).id for n in range(4)]
    a, b, few, empty = (storage.categories.add(title).id for title in ("A", "B", "Few", "Empty"))
    for feed_id, cats in zip(feeds, ([a], [a, b], [b], [few])):
        storage.feeds.change(feed_id, FeedChanges(), category_ids=cats)
    same = NOW - timedelta(hours=5)
    insert(storage, feeds[0], [NOW - timedelta(days=n) for n in range(10)])
    insert(storage, feeds[1], [same, same, same, *EDGES[:6]])  # equal dates, and bucket edges
    insert(storage, feeds[2], [COARSE_EDGE - timedelta(seconds=n * FINE) for n in range(8)])
    insert(storage, feeds[3], [EDGES[-2], EDGES[-1]])  # two items, the year 1 and 9999
    for limit in (1, 3, 20):
        latest = storage.items.latest_per_category([empty, b, a, few, a], limit)
        assert list(latest) == [empty, b, a, few]
        for category_id in (a, b, few, empty):
            expected = reference(storage, category_id=category_id)[:limit]
            assert [item.id for item in latest[category_id]] == expected, (category_id, limit)
    assert storage.items.latest_per_category([a], 0) == {a: []}


def test_feed_and_category_listings_by_title(storage: Storage) -> None:
    titles = ["beta", "Alpha", "gamma", "Delta", "epsilon"]
    for n, title in enumerate(titles):
        storage.feeds.add(f"https://{n}.example/feed", now=NOW, custom_title=title)
        storage.categories.add(title.upper())
    first, last = storage.feeds.page(0, 2), storage.feeds.page(2, 2)
    assert [f.title for f in first.items] == ["Alpha", "beta"] and first.total == 5 and first.page_count == 3
    assert [f.title for f in last.items] == ["gamma"]
    assert storage.feeds.page(3, 2).items == ()
    assert [c.title for c in storage.categories.page(1, 3).items] == ["EPSILON", "GAMMA"]
    assert storage.categories.page(0, 3).total == 5


# -- the counts under every change ------------------------------------------------

DATES = st.one_of(
    st.sampled_from(EDGES),
    st.datetimes(min_value=datetime(2023, 10, 1), max_value=datetime(2024, 1, 1), timezones=st.just(UTC)),
    st.datetimes(timezones=st.just(UTC)),
)
SLOTS = st.integers(0, 3)  # feeds (and categories) by their place; a deleted one comes back as a new one
OPERATION = st.one_of(
    st.tuples(st.just("insert"), SLOTS, st.lists(DATES, min_size=1, max_size=6)),
    st.tuples(st.just("redate"), st.integers(0, 10_000), DATES),
    st.tuples(st.just("retain"), DATES),
    st.tuples(st.just("remove_items"), SLOTS),
    st.tuples(st.just("categories"), SLOTS, st.frozensets(SLOTS)),
    st.tuples(st.just("delete_feed"), SLOTS),
    st.tuples(st.just("delete_category"), SLOTS),
)


class World:
    """Feeds and categories by slot, made again after a deletion."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.feeds: dict[int, int] = {}
        self.categories: dict[int, int] = {}
        self.made = itertools.count()

    def feed(self, slot: int) -> int:
        if slot not in self.feeds:
            self.feeds[slot] = self.storage.feeds.add(f"https://{next(self.made)}.example/feed", now=NOW).id
        return self.feeds[slot]

    def category(self, slot: int) -> int:
        if slot not in self.categories:
            self.categories[slot] = self.storage.categories.add(f"Category {next(self.made)}").id
        return self.categories[slot]

    def run(self, operation: tuple[Any, ...]) -> None:
        storage = self.storage
        match operation:
            case ("insert", slot, dates):
                insert(storage, self.feed(slot), dates)
            case ("redate", pick, date):
                with storage.db.read() as connection:
                    stored = connection.execute(select(items.c.id, items.c.feed_id, items.c.key).order_by(items.c.id)).all()
                if stored:
                    item_id, feed_id, key = stored[pick % len(stored)]
                    redate(storage, feed_id, item_id, key, date)
            case ("retain", cutoff):
                storage.items.delete_older_than(cutoff)
            case ("remove_items", slot):
                storage.items.delete_for_feed(self.feed(slot))
            case ("categories", slot, chosen):
                storage.feeds.change(self.feed(slot), FeedChanges(), category_ids=[self.category(c) for c in sorted(chosen)])
            case ("delete_feed", slot):
                storage.feeds.delete(self.feed(slot))
                del self.feeds[slot]
            case ("delete_category", slot):
                storage.categories.delete(self.category(slot))
                del self.categories[slot]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(OPERATION, min_size=1, max_size=14))
def test_counts_stay_exact_under_any_changes(storage: Storage, operations: list[tuple[Any, ...]]) -> None:
    with storage.db.write() as connection:  # a clean slate for each example (the rest cascades)
        for table in ("item_counts", "feeds", "categories"):
            connection.execute(text(f"DELETE FROM {table}"))
    world = World(storage)
    for operation in operations:
        world.run(operation)
    assert_counts_exact(storage)
    for feed_id in world.feeds.values():
        assert storage.items.count(feed_id=feed_id) == len(reference(storage, feed_id=feed_id))
    assert storage.items.count() == len(reference(storage))
    assert_pages_match(storage, 4)
    for category_id in world.categories.values():
        assert_pages_match(storage, 4, category_id=category_id)


def test_counts_stay_exact_under_concurrent_changes(storage: Storage) -> None:
    """Writers, category changes and retention at once, in threads (on
    PostgreSQL, concurrent transactions): none fails (no deadlock: each
    locks its feeds first, in id order) and the counts are exact after."""
    categories = [storage.categories.add(f"C{n}").id for n in range(3)]
    feeds = [storage.feeds.add(f"https://{n}.example/", now=NOW, category_ids=categories[:1]).id for n in range(3)]
    until = time.monotonic() + 3
    failures: list[BaseException] = []
    done = Counter[str]()

    def repeat(name: str, seed: int, step: Callable[[random.Random], None]) -> None:
        rnd = random.Random(seed)
        while time.monotonic() < until:
            try:
                step(rnd)
            except BaseException as error:
                failures.append(error)
                return
            done[name] += 1

    def write(rnd: random.Random) -> None:
        minutes = [rnd.randrange(0, 100_000) for _ in range(rnd.randrange(1, 20))]
        insert(storage, rnd.choice(feeds), [NOW - timedelta(minutes=m) for m in minutes])

    def move(rnd: random.Random) -> None:
        storage.feeds.change(rnd.choice(feeds), FeedChanges(), category_ids=rnd.sample(categories, rnd.randrange(0, 3)))

    def retain(rnd: random.Random) -> None:
        storage.items.delete_older_than(NOW - timedelta(minutes=rnd.randrange(50_000, 100_000)))

    jobs = [("write", write), ("write", write), ("move", move), ("move", move), ("retain", retain)]
    threads = [threading.Thread(target=repeat, args=(name, n, step)) for n, (name, step) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert min(done[name] for name in ("write", "move", "retain")) > 0, done
    assert_counts_exact(storage)
    assert_pages_match(storage, 20)


def test_the_migration_counts_the_items_already_there(backend_url: str) -> None:
    """An existing database (schema 0004, items in categories) gets its
    counts from migration 0005, equal to a count of its items."""
    from alembic import command

    from lenta.storage.migrate import alembic_config

    old = open_storage(backend_url, migrate=False)
    config = alembic_config()
    with old.db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        connection.commit()
    rnd = random.Random(4)
    with old.db.write() as connection:
        for feed_id in (1, 2, 3):
            connection.execute(
                text("INSERT INTO feeds (id, url, created_at, error_count, gone) VALUES (:id, :url, :at, 0, false)"),
                {"id": feed_id, "url": f"https://{feed_id}.example/", "at": NOW.replace(tzinfo=None)},
            )
        connection.execute(text("INSERT INTO categories (id, title) VALUES (1, 'One'), (2, 'Two')"))
        connection.execute(text("INSERT INTO feed_categories (feed_id, category_id) VALUES (1, 1), (2, 1), (2, 2)"))
        dates = [*EDGES, *(COARSE_EDGE - timedelta(seconds=rnd.randrange(86400 * 300)) for _ in range(60))]
        connection.execute(  # written as lenta writes dates (naive UTC text with microseconds, on SQLite)
            items.insert(),
            [
                {"feed_id": 1 + n % 3, "key": f"k{n}", "hash": "h", "date": date, "first_seen_at": NOW}
                for n, date in enumerate(dates)
            ],
        )
    old.close()
    storage = open_storage(backend_url, migrate=True)
    try:
        assert storage.items.count() == len(dates)
        assert_counts_exact(storage)
        assert_pages_match(storage, 7)
        assert_pages_match(storage, 5, category_id=1)
    finally:
        storage.close()


# -- what a deep page costs -------------------------------------------------------


def build(storage: Storage, feeds: list[int], per_feed: int, *, newest: datetime, days: float) -> None:
    """``per_feed`` items for each feed, spread evenly over ``days`` before
    ``newest``, through the batch writer's insert. Items of about 1 KB, as
    real ones are: PostgreSQL's planner weighs a scan of the table by its size."""
    step = timedelta(days=days) / per_feed
    with storage.db.write() as connection:
        batches = [
            (feed_id, [record(newest - step * k - timedelta(seconds=n), body=1000) for k in range(per_feed)])
            for n, feed_id in enumerate(feeds)
        ]
        storage.items.insert_many(connection, batches, NOW)
    if not storage.db.is_sqlite:  # as autovacuum would: the planner's statistics of the new rows
        with storage.db.write() as connection:
            connection.execute(text("ANALYZE"))


def request_path(storage: Storage, feeds: list[int], category: int) -> dict[str, Callable[[], object]]:
    """The storage calls behind the public pages, each on its own: the
    first and the last page of the river, a feed and a category, the
    sources page's latest items of 20 feeds and the categories page's of a category."""
    calls: dict[str, Callable[[], object]] = {
        "sources": lambda: storage.items.latest_per_feed(feeds[:20], 3),
        "categories": lambda: storage.items.latest_per_category([category], 3),
    }
    for name, scope in (("river", {}), ("feed", {"feed_id": feeds[0]}), ("category", {"category_id": category})):
        last = storage.items.page(0, 20, **scope).page_count - 1
        calls[f"{name} first"] = functools.partial(storage.items.page, 0, 20, **scope)
        calls[f"{name} last"] = functools.partial(storage.items.page, last, 20, **scope)
    return calls


@contextmanager
def vm_steps(storage: Storage) -> Iterator[list[int]]:
    """Counts SQLite's virtual machine instructions (in hundreds) on every
    connection the storage takes: the work its queries do, whatever the clock says."""
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0  # go on

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        dbapi_connection.set_progress_handler(tick, 100)

    def checkin(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.set_progress_handler(None, 0)

    event.listen(storage.db.engine, "checkout", checkout)
    event.listen(storage.db.engine, "checkin", checkin)
    try:
        yield steps
    finally:
        event.remove(storage.db.engine, "checkout", checkout)
        event.remove(storage.db.engine, "checkin", checkin)


def cost(storage: Storage, call: Callable[[], object]) -> int:
    """Hundreds of SQLite VM instructions; on PostgreSQL, the rows its plans
    read from ``items`` (EXPLAIN ANALYZE of every statement run again)."""
    if storage.db.is_sqlite:
        with vm_steps(storage) as steps:
            call()
        return steps[0]
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(storage.db.engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(storage.db.engine, "before_cursor_execute", capture)
    rows = 0
    with storage.db.engine.connect() as connection:
        for statement, parameters in statements:
            (plan,) = connection.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar_one()
            rows += _items_rows(plan["Plan"])
    return rows


def _items_rows(node: dict[str, Any]) -> int:
    read = 0
    if node.get("Relation Name") == "items":
        read += node["Actual Rows"] * node["Actual Loops"] + node.get("Rows Removed by Filter", 0)
        read += node.get("Rows Removed by Index Recheck", 0)
    return read + sum(_items_rows(child) for child in node.get("Plans", ()))


def test_a_deep_page_costs_what_the_first_does(storage: Storage) -> None:
    """Each page's storage calls cost no more at the last page than at the
    first, and no more once the site, the feed and the category hold twice
    the items (older ones). Paging by OFFSET, counting the items for the
    pager or ranking every item of the feeds fail it."""
    category = storage.categories.add("Every third").id
    feeds = [
        storage.feeds.add(f"https://{n}.example/", now=NOW, category_ids=[category] if n % 3 == 0 else []).id for n in range(30)
    ]
    build(storage, feeds, 160, newest=NOW, days=300)  # full last pages, before and after
    calls = request_path(storage, feeds, category)
    before = {name: cost(storage, call) for name, call in calls.items()}
    build(storage, feeds, 160, newest=NOW - timedelta(days=300), days=300)
    calls = request_path(storage, feeds, category)
    after = {name: cost(storage, call) for name, call in calls.items()}
    for name in ("river", "feed", "category"):
        assert after[f"{name} last"] <= 2 * after[f"{name} first"] + 10, (name, before, after)
    for name in calls:
        assert after[name] <= 1.25 * before[name] + 10, (name, before, after)
    if not storage.db.is_sqlite:
        assert max(after.values()) <= 200, ("rows read from items for one page among 9,600 items", after)


def test_new_items_cost_the_same_in_a_big_feed(tmp_path: Path) -> None:
    """Counting and filing new items reads the new rows, not the rest of
    their feed: 20 items into a feed of 6,000 cost what 20 into an empty
    one do (SQLite's VM instructions)."""
    storage = open_storage(str(tmp_path / "writes.sqlite"))
    try:
        category = storage.categories.add("Both").id
        big, empty = (storage.feeds.add(f"https://{n}.example/", now=NOW, category_ids=[category]).id for n in range(2))
        build(storage, [big], 6000, newest=NOW - timedelta(days=1), days=300)

        def twenty(feed_id: int) -> Callable[[], object]:
            return lambda: insert(storage, feed_id, [NOW - timedelta(minutes=n) for n in range(20)])

        into_empty, into_big = cost(storage, twenty(empty)), cost(storage, twenty(big))
    finally:
        storage.close()
    assert into_big <= 1.5 * into_empty + 20, (into_empty, into_big)


# -- the sources and categories pages ---------------------------------------------


def test_sources_and_categories_pages_have_drupals_pager(lenta: Lenta, settings: Settings) -> None:
    storage = open_storage(settings.database)
    try:
        for n in range(23):
            feed = storage.feeds.add(f"https://{n}.example/feed", now=NOW, custom_title=f"Feed {n:02d}")
            storage.categories.add(f"Category {n:02d}")
            insert(storage, feed.id, [NOW - timedelta(hours=h + n) for h in range(5)])
    finally:
        storage.close()
    with AppServer(create_app(settings, lenta)) as web, httpx.Client(base_url=web.url("")) as http:
        first = parse_page(http.get("/aggregator/sources").text)
        second = parse_page(http.get("/aggregator/sources?page=1").text)
        past = parse_page(http.get("/aggregator/sources?page=7").text)
        categories = parse_page(http.get("/aggregator/categories?page=1").text)
    titles = [h.text_content() for h in first.cssselect(".aggregator-source h2")]
    assert titles == [f"Feed {n:02d}" for n in range(20)]
    assert [li.text_content().split()[0] for li in first.cssselect("#source-1 li")] == ["Title"] * 3
    assert [h.text_content() for h in second.cssselect(".aggregator-source h2")] == ["Feed 20", "Feed 21", "Feed 22"]
    assert [h.text_content() for h in past.cssselect(".aggregator-source h2")] == ["Feed 20", "Feed 21", "Feed 22"]
    assert first.cssselect(".pager-next a")[0].get("href") == "/aggregator/sources?page=1"
    assert second.cssselect(".pager-current")[0].text_content() == "2"
    assert [h.text_content() for h in categories.cssselect(".aggregator-category h2")] == [
        "Category 20",
        "Category 21",
        "Category 22",
    ]
    assert categories.cssselect(".pager-first a")[0].get("href") == "/aggregator/categories"
