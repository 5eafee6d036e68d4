"""The storage contract: every test runs on SQLite and on PostgreSQL (when
LENTA_TEST_POSTGRES_URL is set), so both backends behave the same."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Table
from sqlalchemy import insert
from sqlalchemy import update

from lenta.exceptions import CategoryExistsError
from lenta.exceptions import CategoryNotFoundError
from lenta.exceptions import FeedExistsError
from lenta.exceptions import FeedNotFoundError
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import UserExistsError
from lenta.exceptions import UserNotFoundError
from lenta.parse.model import Enclosure
from lenta.storage import Storage
from lenta.storage import _items
from lenta.storage import open_storage
from lenta.storage._feeds import FETCH_LOG_KEEP
from lenta.storage._feeds import feed_columns
from lenta.storage.migrate import current_revision
from lenta.storage.migrate import described
from lenta.storage.migrate import head_revision
from lenta.storage.records import UNCHANGED
from lenta.storage.records import FeedChanges
from lenta.storage.records import FetchLogRecord
from lenta.storage.records import ItemRecord
from lenta.storage.records import SubscriptionChanges
from lenta.storage.schema import feeds
from lenta.storage.schema import fetch_log
from lenta.storage.schema import items
from lenta.storage.schema import metadata
from lenta.storage.schema import websub_subscriptions
from lenta.types import FetchOutcome

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def record(key: str, date: datetime, **fields: object) -> ItemRecord:
    values: dict[str, object] = {
        "key": key,
        "hash": f"hash-{key}",
        "guid": key,
        "link": f"https://example.com/{key}",
        "title": f"Title {key}",
        "author": None,
        "published_at": date,
        "updated_at": None,
        "date": date,
        "content": f"<p>{key}</p>",
        "summary": None,
    }
    values.update(fields)
    return ItemRecord(**values)  # type: ignore[arg-type]


def write(
    storage: Storage,
    feed_id: int,
    changes: FeedChanges | None = None,
    new: tuple[ItemRecord, ...] = (),
    changed: dict[int, ItemRecord] | None = None,
    log: FetchLogRecord | None = None,
) -> None:
    """One fetch's outcome in one transaction, as the batch writer writes it."""
    with storage.db.write() as connection:
        storage.apply_feed_writes(connection, [(feed_id, changes or FeedChanges(), new, log)], changed or {}, NOW)


def add_items(storage: Storage, feed_id: int, *records: ItemRecord) -> None:
    write(storage, feed_id, new=records)


def test_migrated_schema_matches_the_code(storage: Storage) -> None:
    with storage.db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection, opts={"include_name": described}), metadata) == []
    assert current_revision(storage.db.engine) == head_revision()


def test_opening_twice_does_not_migrate_again(backend_url: str) -> None:
    first = open_storage(backend_url)
    first.feeds.add("https://example.com/feed", now=NOW)
    first.close()
    second = open_storage(backend_url)
    assert [f.url for f in second.feeds.list()] == ["https://example.com/feed"]
    second.close()


def test_add_and_get_feed(storage: Storage) -> None:
    feed = storage.feeds.add("https://example.com/feed", now=NOW, custom_title="Mine", refresh=3600)
    assert feed.url == "https://example.com/feed"
    assert feed.title == "Mine"
    assert feed.refresh == 3600
    assert feed.created_at == NOW
    assert feed.next_check_at == NOW
    assert storage.feeds.get(feed.id) == feed
    assert storage.feeds.get_by_url(feed.url) == feed


def test_adding_a_url_twice_is_refused(storage: Storage) -> None:
    storage.feeds.add("https://example.com/feed", now=NOW)
    with pytest.raises(FeedExistsError):
        storage.feeds.add("https://example.com/feed", now=NOW)
    assert len(storage.feeds.list()) == 1


def test_missing_feed(storage: Storage) -> None:
    with pytest.raises(FeedNotFoundError):
        storage.feeds.get(404)
    with pytest.raises(FeedNotFoundError):
        storage.feeds.delete(404)
    with pytest.raises(FeedNotFoundError):
        storage.feeds.change(404, FeedChanges(custom_title="x"))


def test_title_falls_back_to_the_feeds_own_then_the_url(storage: Storage) -> None:
    feed = storage.feeds.add("https://example.com/feed", now=NOW)
    assert feed.title == "https://example.com/feed"
    feed = storage.feeds.change(feed.id, FeedChanges(feed_title="Example"))
    assert feed.title == "Example"
    feed = storage.feeds.change(feed.id, FeedChanges(custom_title="Mine"))
    assert feed.title == "Mine"


def test_changing_to_an_existing_url_is_refused(storage: Storage) -> None:
    storage.feeds.add("https://a.example/feed", now=NOW)
    second = storage.feeds.add("https://b.example/feed", now=NOW)
    with pytest.raises(FeedExistsError):
        storage.feeds.change(second.id, FeedChanges(url="https://a.example/feed"))
    assert storage.feeds.get(second.id).url == "https://b.example/feed"


def test_list_counts_items_and_sorts_by_title(storage: Storage) -> None:
    b = storage.feeds.add("https://b.example/feed", now=NOW, custom_title="beta")
    a = storage.feeds.add("https://a.example/feed", now=NOW, custom_title="Alpha")
    add_items(storage, b.id, record("1", NOW), record("2", NOW))
    listed = storage.feeds.list()
    assert [(f.title, f.item_count) for f in listed] == [("Alpha", 0), ("beta", 2)]
    assert listed[0].id == a.id


def test_every_feed_for_a_refresh_is_by_id_gone_ones_included(storage: Storage) -> None:
    b = storage.feeds.add("https://b.example/feed", now=NOW, custom_title="beta")
    a = storage.feeds.add("https://a.example/feed", now=NOW, custom_title="Alpha")
    storage.feeds.change(b.id, FeedChanges(gone=True, etag='"v1"'))
    everything = storage.feeds.every()
    assert [f.id for f in everything] == [b.id, a.id]
    assert everything[0].gone and everything[0].etag == '"v1"' and everything[0].url == "https://b.example/feed"


def test_deleting_a_feed_deletes_its_items(storage: Storage) -> None:
    feed = storage.feeds.add("https://example.com/feed", now=NOW)
    other = storage.feeds.add("https://example.com/other", now=NOW)
    add_items(storage, feed.id, record("1", NOW))
    add_items(storage, other.id, record("1", NOW))
    storage.feeds.delete(feed.id)
    assert storage.items.count() == 1
    assert storage.items.count(feed_id=other.id) == 1


def test_due_feeds_are_the_overdue_ones_oldest_first_and_not_gone(storage: Storage) -> None:
    late = storage.feeds.add("https://a.example/", now=NOW)
    later = storage.feeds.add("https://b.example/", now=NOW)
    future = storage.feeds.add("https://c.example/", now=NOW)
    gone = storage.feeds.add("https://d.example/", now=NOW)
    never = storage.feeds.add("https://e.example/", now=NOW)
    storage.feeds.change(late.id, FeedChanges(next_check_at=NOW - timedelta(hours=2)))
    storage.feeds.change(later.id, FeedChanges(next_check_at=NOW - timedelta(hours=1)))
    storage.feeds.change(future.id, FeedChanges(next_check_at=NOW + timedelta(hours=1)))
    storage.feeds.change(gone.id, FeedChanges(next_check_at=NOW - timedelta(hours=3), gone=True))
    storage.feeds.change(never.id, FeedChanges(next_check_at=None))
    assert [f.id for f in storage.feeds.due(NOW, limit=10)] == [late.id, later.id]
    assert [f.id for f in storage.feeds.due(NOW, limit=1)] == [late.id]


def test_items_page_is_newest_first_then_by_id(storage: Storage) -> None:
    feed = storage.feeds.add("https://example.com/feed", now=NOW)
    add_items(
        storage,
        feed.id,
        record("new", NOW),
        record("same-a", NOW - timedelta(hours=1)),
        record("same-b", NOW - timedelta(hours=1)),
        record("old", NOW - timedelta(days=1)),
    )
    page = storage.items.page(0, 10)
    # Items are inserted oldest-first (reversed feed order), so among equal
    # dates the one listed first in the feed has the higher id.
    assert [i.key for i in page.items] == ["new", "same-a", "same-b", "old"]
    assert page.total == 4
    second = storage.items.page(1, 3)
    assert [i.key for i in second.items] == ["old"]
    assert second.page_count == 2


def test_item_fields_round_trip(storage: Storage) -> None:
    feed = storage.feeds.add("https://example.com/feed", now=NOW, custom_title="Source")
    enclosure = Enclosure("https://example.com/a.mp3", "audio/mpeg", 1234)
    add_items(
        storage,
        feed.id,
        record(
            "k",
            NOW,
            author="Ann",
            summary="<p>s</p>",
            enclosures=(enclosure,),
            categories=("one", "два"),
            updated_at=NOW + timedelta(seconds=1),
        ),
    )
    (item,) = storage.items.page(0, 10).items
    assert item.feed_title == "Source"
    assert item.author == "Ann"
    assert item.summary == "<p>s</p>"
    assert item.enclosures == (enclosure,)
    assert item.categories == ("one", "два")
    assert item.date == NOW and item.date.tzinfo is not None
    assert item.updated_at == NOW + timedelta(seconds=1)
    assert item.first_seen_at == NOW


def test_bulk_writes_store_exactly_what_a_plain_statement_stores(storage: Storage) -> None:
    # Items, feed columns and log rows go to the driver without SQLAlchemy's
    # per-row processing (storage/_bulk.py); what lands in the columns must be
    # what SQLAlchemy's own insert and update write, byte for byte, or dates
    # written one way would sort apart from dates written the other.
    a = storage.feeds.add("https://a.example/", now=NOW)
    b = storage.feeds.add("https://b.example/", now=NOW)
    later = NOW + timedelta(days=3, microseconds=1)
    fields = {
        "author": "Ann",
        "updated_at": later,
        "summary": "<p>s</p>",
        "categories": ("x",),
        "enclosures": (Enclosure("https://a.example/a.mp3", "audio/mpeg", 9),),
    }
    item = record("k", NOW.replace(microsecond=0), **fields)
    log = FetchLogRecord(at=later, outcome=FetchOutcome.OK, duration=0.25, status=200, bytes=10, new_items=1)
    changes = FeedChanges(
        checked_at=later,
        gone=True,
        publish_interval=60.5,
        http_status=200,
        error_kind=FetchErrorKind.TIMEOUT,
        skip_hours=frozenset({12, 3}),
        skip_days=frozenset(),
    )
    with storage.db.write() as connection:
        storage.items.insert_many(connection, [(a.id, [item])], NOW)
        storage.feeds.change_many(connection, [(a.id, changes)])
        storage.feeds.log_fetches(connection, [(a.id, log)])
        row = {
            name: getattr(item, name)
            for name in (
                "key",
                "hash",
                "guid",
                "link",
                "title",
                "author",
                "published_at",
                "updated_at",
                "date",
                "content",
                "summary",
            )
        }
        connection.execute(
            insert(items),
            {
                **row,
                "feed_id": b.id,
                "first_seen_at": NOW,
                "categories": '["x"]',
                "enclosures": _items._enclosures_json(item.enclosures),
            },
        )
        connection.execute(update(feeds).where(feeds.c.id == b.id).values(dict(feed_columns(changes))))
        connection.execute(
            insert(fetch_log),
            {
                "feed_id": b.id,
                "at": later,
                "outcome": "ok",
                "duration": 0.25,
                "status": 200,
                "bytes": 10,
                "new_items": 1,
                "updated_items": 0,
            },
        )

    def stored(table: Table, key: str, feed_id: int) -> tuple[object, ...]:
        names = [c.name for c in table.c if c.name not in {"id", "feed_id", "url"}]
        sql = f"SELECT {', '.join(names)} FROM {table.name} WHERE {key} = {feed_id}"
        with storage.db.read() as connection:  # the driver's values, not SQLAlchemy's conversions
            return tuple(connection.exec_driver_sql(sql).one())

    assert stored(items, "feed_id", a.id) == stored(items, "feed_id", b.id)
    assert stored(feeds, "id", a.id) == stored(feeds, "id", b.id)
    assert stored(fetch_log, "feed_id", a.id) == stored(fetch_log, "feed_id", b.id)
    (read_back,) = storage.items.page(0, 10, feed_id=a.id).items
    assert (read_back.updated_at, read_back.categories, read_back.enclosures) == (later, ("x",), item.enclosures)
    read_feed = storage.feeds.get(a.id)
    assert read_feed.gone is True
    assert (read_feed.error_kind, read_feed.skip_hours, read_feed.skip_days) == ("timeout", frozenset({3, 12}), frozenset())


def test_change_many_groups_rows_by_columns(storage: Storage) -> None:
    a = storage.feeds.add("https://a.example/", now=NOW)
    b = storage.feeds.add("https://b.example/", now=NOW)
    c = storage.feeds.add("https://c.example/", now=NOW)
    with storage.db.write() as connection:
        storage.feeds.change_many(
            connection,
            [
                (a.id, FeedChanges(http_status=304, checked_at=NOW)),
                (b.id, FeedChanges(checked_at=NOW, http_status=200)),
                (c.id, FeedChanges(error="boom", error_count=3)),
                (c.id, FeedChanges()),  # nothing to write
            ],
        )
    assert [storage.feeds.get(f.id).http_status for f in (a, b, c)] == [304, 200, None]
    assert storage.feeds.get(c.id).error_count == 3 and storage.feeds.get(a.id).error is None


def test_every_change_field_is_a_column() -> None:
    # What mypy checks at the call sites holds only if the fields are the tables' columns.
    assert set(FeedChanges.__dataclass_fields__) <= set(feeds.c.keys())
    assert set(SubscriptionChanges.__dataclass_fields__) <= set(websub_subscriptions.c.keys())
    assert list(FeedChanges(etag=None, url="u").changed()) == [("url", "u"), ("etag", None)]  # None is a value
    assert (FeedChanges(etag="a", url="u") | FeedChanges(etag=None)) == FeedChanges(etag=None, url="u")
    assert FeedChanges().etag is UNCHANGED


def test_existing_and_replace_update_in_place(storage: Storage) -> None:
    feed = storage.feeds.add("https://example.com/feed", now=NOW)
    add_items(storage, feed.id, record("a", NOW), record("b", NOW))
    existing = storage.items.read_existing(feed.id, ["a", "b", "c"])
    assert set(existing) == {"a", "b"}
    item_id, stored_hash, stored_date = existing["a"]
    assert (stored_hash, stored_date) == ("hash-a", NOW)
    changed = record("a", NOW, title="New title", hash="hash-a2")
    write(storage, feed.id, changed={item_id: changed})
    assert storage.items.count() == 2
    assert storage.items.get(item_id).title == "New title"  # type: ignore[union-attr]
    assert storage.items.read_existing(feed.id, ["a"])["a"] == (item_id, "hash-a2", NOW)


def test_existing_handles_many_keys(storage: Storage) -> None:
    feed = storage.feeds.add("https://example.com/feed", now=NOW)
    add_items(storage, feed.id, *[record(str(n), NOW) for n in range(1200)])
    assert len(storage.items.read_existing(feed.id, [str(n) for n in range(1300)])) == 1200


def test_latest_per_feed(storage: Storage) -> None:
    a = storage.feeds.add("https://a.example/", now=NOW)
    b = storage.feeds.add("https://b.example/", now=NOW)
    add_items(storage, a.id, *[record(f"a{n}", NOW - timedelta(hours=n)) for n in range(5)])
    add_items(storage, b.id, record("b0", NOW))
    latest = storage.items.latest_per_feed([a.id, b.id], 3)
    assert [i.key for i in latest[a.id]] == ["a0", "a1", "a2"]
    assert [i.key for i in latest[b.id]] == ["b0"]


def test_category_pages_hold_the_items_of_its_feeds(storage: Storage) -> None:
    news = storage.categories.add("News", "daily")
    a = storage.feeds.add("https://a.example/", now=NOW, category_ids=[news.id])
    b = storage.feeds.add("https://b.example/", now=NOW)
    add_items(storage, a.id, record("a", NOW))
    add_items(storage, b.id, record("b", NOW))
    assert [i.key for i in storage.items.page(0, 10, category_id=news.id).items] == ["a"]
    assert storage.feeds.get(a.id).category_ids == (news.id,)
    assert storage.categories.get(news.id).feed_count == 1
    assert [f.id for f in storage.feeds.list(category_id=news.id)] == [a.id]


def test_categories_crud(storage: Storage) -> None:
    news = storage.categories.add("News")
    with pytest.raises(CategoryExistsError):
        storage.categories.add("News")
    other = storage.categories.add("Other")
    with pytest.raises(CategoryExistsError):
        storage.categories.change(other.id, title="News", description=None)
    changed = storage.categories.change(news.id, title="World news", description="all of it")
    assert (changed.title, changed.description) == ("World news", "all of it")
    assert storage.categories.find("world NEWS") == changed
    feed = storage.feeds.add("https://a.example/", now=NOW, category_ids=[news.id, other.id])
    storage.categories.delete(news.id)
    assert storage.feeds.get(feed.id).category_ids == (other.id,)
    with pytest.raises(CategoryNotFoundError):
        storage.categories.get(news.id)
    with pytest.raises(CategoryNotFoundError):
        storage.categories.delete(news.id)


def test_delete_older_than_uses_the_item_date(storage: Storage) -> None:
    feed = storage.feeds.add("https://example.com/feed", now=NOW)
    add_items(storage, feed.id, record("new", NOW), record("old", NOW - timedelta(days=10)))
    assert storage.items.delete_older_than(NOW - timedelta(days=1)) == 1
    assert [i.key for i in storage.items.page(0, 10).items] == ["new"]


def test_fetch_log_keeps_a_short_history(storage: Storage) -> None:
    feed = storage.feeds.add("https://example.com/feed", now=NOW)
    for n in range(FETCH_LOG_KEEP + 5):
        log = FetchLogRecord(at=NOW + timedelta(minutes=n), outcome=FetchOutcome.OK, duration=0.1, status=200, bytes=n)
        write(storage, feed.id, FeedChanges(checked_at=NOW), log=log)
    other = storage.feeds.add("https://example.com/other", now=NOW)
    write(storage, other.id, log=FetchLogRecord(at=NOW, outcome=FetchOutcome.OK, duration=0.1))
    assert len(storage.feeds.fetch_history(feed.id, limit=1000)) == FETCH_LOG_KEEP + 5
    assert storage.feeds.trim_fetch_log() == 5
    history = storage.feeds.fetch_history(feed.id)
    assert len(history) == FETCH_LOG_KEEP
    assert history[0].bytes == FETCH_LOG_KEEP + 4  # newest first
    assert len(storage.feeds.fetch_history(other.id)) == 1


def test_users(storage: Storage) -> None:
    user = storage.users.add("ann", "hash1", is_admin=True, now=NOW)
    assert user.is_admin and user.name == "ann"
    with pytest.raises(UserExistsError):
        storage.users.add("ann", "hash2", is_admin=False, now=NOW)
    storage.users.set_password_hash("ann", "hash3")
    assert storage.users.get_with_hash("ann")[1] == "hash3"
    with pytest.raises(UserNotFoundError):
        storage.users.get("bob")


def test_settings_round_trip(storage: Storage) -> None:
    storage.settings.put({"a": "1", "b": "two"})
    storage.settings.put({"a": "3"})
    assert storage.settings.all() == {"a": "3", "b": "two"}


def test_head_constant_names_the_newest_migration() -> None:
    from lenta.storage.migrate import HEAD

    assert head_revision() == HEAD


def test_fetch_stats_accumulate_by_outcome(storage: Storage) -> None:
    with storage.db.write() as connection:
        storage.feeds.count_fetches(
            connection, [(FetchOutcome.OK, 0.04), (FetchOutcome.OK, 3.0), (FetchOutcome.HTTP_SERVER, 70.0)]
        )
    with storage.db.write() as connection:
        storage.feeds.count_fetches(connection, [(FetchOutcome.OK, 0.2)])
    stats = storage.feeds.fetch_stats()
    assert stats["ok"]["count"] == 3 and stats["ok"]["seconds"] == pytest.approx(3.24)
    assert (stats["ok"]["le_0_05"], stats["ok"]["le_0_25"], stats["ok"]["le_5_0"], stats["ok"]["le_60_0"]) == (1, 2, 3, 3)
    assert stats["http_5xx"]["count"] == 1 and stats["http_5xx"]["le_60_0"] == 0


def test_claiming_due_feeds_hands_each_to_one_refresher(storage: Storage) -> None:
    due = [storage.feeds.add(f"https://{n}.example/", now=NOW) for n in range(3)]
    later = storage.feeds.add("https://later.example/", now=NOW)
    storage.feeds.change(later.id, FeedChanges(next_check_at=NOW + timedelta(hours=1)))
    lease = timedelta(minutes=30)
    first = storage.feeds.claim_due(NOW, limit=2, lease=lease)
    second = storage.feeds.claim_due(NOW, limit=10, lease=lease)
    assert [f.id for f in first] == [due[0].id, due[1].id]
    assert [f.id for f in second] == [due[2].id]
    assert storage.feeds.claim_due(NOW, limit=10, lease=lease) == []
    assert storage.feeds.get(due[0].id).next_check_at == NOW + lease
    # A refresher that died: once the lease runs out the feeds are due again.
    again = storage.feeds.claim_due(NOW + lease, limit=10, lease=lease)
    assert sorted(f.id for f in again) == sorted(f.id for f in due)


def test_a_new_sqlite_database_has_pages_big_enough_for_an_item(tmp_path: Path) -> None:
    # A few KB of HTML per item: on SQLite's default 4 KB pages nearly every
    # item spills into overflow pages, which cost a fifth of a refresh's writing.
    storage = open_storage(str(tmp_path / "lenta.sqlite"))
    try:
        with storage.db.read() as connection:
            assert connection.exec_driver_sql("PRAGMA page_size").scalar() == 16384
            # ... and a cache of a thousand of them (SQLite's 2 MB default held 125).
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -16384
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        storage.close()
