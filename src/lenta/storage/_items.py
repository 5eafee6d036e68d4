"""Items: listing pages, identity lookups for updates, retention.

Listing pages are found from the item counts (:mod:`lenta.storage._counts`),
which every write here keeps in step in its own transaction.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from typing import Literal

from sqlalchemy import ARRAY
from sqlalchemy import ColumnElement
from sqlalchemy import CompoundSelect
from sqlalchemy import Connection
from sqlalchemy import Integer
from sqlalchemy import Row
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import cast
from sqlalchemy import delete
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import true
from sqlalchemy import union_all

from lenta.parse.model import Enclosure
from lenta.storage import _category_items
from lenta.storage import _counts
from lenta.storage import _reader
from lenta.storage import _rules
from lenta.storage import _search
from lenta.storage._base import Database
from lenta.storage._bulk import bulk_insert
from lenta.storage._bulk import bulk_update
from lenta.storage.records import ItemRecord
from lenta.storage.schema import category_items
from lenta.storage.schema import feeds
from lenta.storage.schema import items
from lenta.types import Item
from lenta.types import Page

# SQLite allows 32766 host parameters; stay far below for IN (...) lists.
_CHUNK = 500


def _enclosures_json(enclosures: tuple[Enclosure, ...]) -> str | None:
    if not enclosures:
        return None
    return json.dumps([{"url": e.url, "mime_type": e.mime_type, "length": e.length} for e in enclosures])


def _enclosures_from_json(text: str | None) -> tuple[Enclosure, ...]:
    if not text:
        return ()
    return tuple(Enclosure(url=e["url"], mime_type=e.get("mime_type"), length=e.get("length")) for e in json.loads(text))


# Built once: a refresh runs these for every feed, and building a statement
# (then its cache key) costs more than SQLite's part of a small insert.
_EXISTING = select(items.c.key, items.c.id, items.c.hash, items.c.date).where(
    and_(items.c.feed_id == bindparam("feed_id"), items.c.key.in_(bindparam("keys", expanding=True)))
)
# The stored fields of an ItemRecord, in _record_row's order.
_RECORD_COLUMNS = (
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
    "enclosures",
    "categories",
)
_INSERT_COLUMNS = (*_RECORD_COLUMNS, "feed_id", "first_seen_at")
_DATE = _INSERT_COLUMNS.index("date")
_FEED = _INSERT_COLUMNS.index("feed_id")
# Feeds or categories whose newest items one statement reads on SQLite (a
# UNION ALL of a LIMIT each: SQLite allows 500 terms in a compound SELECT).
_OWNERS_PER_UNION = 100


def _record_row(record: ItemRecord) -> tuple[Any, ...]:
    return (
        record.key,
        record.hash,
        record.guid,
        record.link,
        record.title,
        record.author,
        record.published_at,
        record.updated_at,
        record.date,
        record.content,
        record.summary,
        _enclosures_json(record.enclosures),
        json.dumps(list(record.categories)) if record.categories else None,
    )


# Statements built once: building one (and its cache key) costs more than
# SQLite's part of running it, and a page runs several.
_ROW_COLUMNS = (items, feeds.c.custom_title, feeds.c.feed_title, feeds.c.url.label("feed_url"))
_ITEM_ROWS = select(*_ROW_COLUMNS).select_from(items.join(feeds, feeds.c.id == items.c.feed_id))
_NEWEST_FIRST = (items.c.date.desc(), items.c.id.desc())
_FEEDS_BEFORE = select(items.c.feed_id).where(items.c.date < bindparam("cutoff", type_=items.c.date.type)).distinct()
_REPEATABLE_READ = text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


_UNPUBLISHED = select(feeds.c.id).where(feeds.c.published == false())
_ANY_UNPUBLISHED = _UNPUBLISHED.limit(1)


@functools.cache
def _window_statement(kind: _counts.Kind, after: bool, before: bool, published_only: bool = False) -> Select[Any]:
    """The items of a window of a scope (its id the ``owner`` parameter):
    their ids from an index alone, the site's ``(date, id)``, a feed's
    ``(feed_id, date, id)`` or a category's ``category_items``; then only
    the page's rows are read whole. ``published_only``: the site's, when
    some feeds are not published (each entry's feed is then looked up)."""
    if kind == "category":
        c = category_items.c
        date, item_id, scope = c.date, c.item_id, [c.category_id == bindparam("owner")]
    else:
        date, item_id = items.c.date, items.c.id
        scope = [items.c.feed_id == bindparam("owner")] if kind == "feed" else []
        if published_only:
            scope.append(items.c.feed_id.not_in(_UNPUBLISHED))
    if after:
        scope.append(date >= bindparam("start", type_=date.type))
    if before:
        scope.append(date < bindparam("end", type_=date.type))
    ids = select(item_id).where(*scope).order_by(date.desc(), item_id.desc()).limit(bindparam("limit")).offset(bindparam("skip"))
    return _ITEM_ROWS.where(items.c.id.in_(ids)).order_by(*_NEWEST_FIRST)


def _window_query(
    scope: _counts.Scope, window: _counts.Window, limit: int, *, published_only: bool = False
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement and parameters that read a window's items."""
    statement = _window_statement(scope.kind, window.start is not None, window.end is not None, published_only)
    values = {"owner": scope.owner, "start": window.start, "end": window.end, "limit": limit, "skip": window.skip}
    return statement, values


def _newest_ids(kind: Literal["feed", "category"], owner: ColumnElement[int], limit: int) -> Select[Any]:
    """The ids of a feed's or a category's ``limit`` newest items, down its
    index. The limit is written into the statement: PostgreSQL's plan for
    a LIMIT it cannot see guesses a tenth of the rows, and joins them by
    hashing every feed."""
    count: ColumnElement[int] = literal_column(str(int(limit)))
    if kind == "feed":
        newest = items.alias("newest")
        return (
            select(newest.c.id.label("item_id"))
            .where(newest.c.feed_id == owner)
            .order_by(newest.c.date.desc(), newest.c.id.desc())
            .limit(count)
        )
    c = category_items.c
    return select(c.item_id).where(c.category_id == owner).order_by(c.date.desc(), c.item_id.desc()).limit(count)


@functools.lru_cache(maxsize=256)
def _newest_union(kind: Literal["feed", "category"], count: int, limit: int) -> CompoundSelect[Any]:
    """SQLite: the newest items of ``count`` owners (parameters ``owner_0``
    …), a UNION ALL of a LIMIT each, with the owner's id as ``owner``."""
    branches = []
    for n in range(count):
        owner = bindparam(f"owner_{n}", type_=Integer)
        newest = _newest_ids(kind, owner, limit)
        branches.append(_ITEM_ROWS.add_columns(cast(owner, Integer).label("owner")).where(items.c.id.in_(newest)))
    return union_all(*branches)


@functools.lru_cache(maxsize=64)
def _newest_lateral(kind: Literal["feed", "category"], limit: int) -> Select[Any]:
    """PostgreSQL: the newest items of the owners in the ``owners`` array,
    a LIMIT each in a LATERAL join: one small plan, where a UNION ALL is
    planned again branch by branch at every request."""
    owners = func.unnest(bindparam("owners", type_=ARRAY(Integer))).table_valued("id").render_derived(name="owners")
    newest = _newest_ids(kind, owners.c.id, limit).lateral("newest")
    joined = owners.join(newest, true()).join(items, items.c.id == newest.c.item_id).join(feeds, feeds.c.id == items.c.feed_id)
    return select(*_ROW_COLUMNS, owners.c.id.label("owner")).select_from(joined)


def item_from_row(row: Row[Any]) -> Item:
    m = row._mapping
    return Item(
        id=m["id"],
        feed_id=m["feed_id"],
        feed_title=m["custom_title"] or m["feed_title"] or m["feed_url"],
        key=m["key"],
        guid=m["guid"],
        link=m["link"],
        title=m["title"],
        author=m["author"],
        published_at=m["published_at"],
        updated_at=m["updated_at"],
        date=m["date"],
        content=m["content"],
        summary=m["summary"],
        enclosures=_enclosures_from_json(m["enclosures"]),
        categories=tuple(json.loads(m["categories"])) if m["categories"] else (),
        first_seen_at=m["first_seen_at"],
    )


class ItemStore:
    """Queries on items. New item queries go here; test them in tests/test_storage.py."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _select(self) -> Select[Any]:
        return _ITEM_ROWS

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """A read transaction that sees one state of the database throughout,
        so that a page agrees with the counts that found it: SQLite's read
        transactions are that already; PostgreSQL's default takes a new
        snapshot for each statement."""
        with self.db.read() as connection:
            if not self.db.is_sqlite:
                connection.execute(_REPEATABLE_READ)
            yield connection

    @staticmethod
    def _scope(feed_id: int | None, category_id: int | None) -> _counts.Scope:
        if feed_id is not None and category_id is not None:
            raise ValueError("a listing is of one feed or of one category, not both")
        if feed_id is not None:
            return _counts.Scope("feed", feed_id)
        if category_id is not None:
            return _counts.Scope("category", category_id)
        return _counts.SITE

    def page(
        self,
        page: int,
        per_page: int,
        *,
        feed_id: int | None = None,
        category_id: int | None = None,
    ) -> Page[Item]:
        """Items newest first (item date, then id), Drupal's ``?page=N``
        slicing, found from the item counts: a seek to the page's bucket and a
        scan of less than one bucket (see :mod:`lenta.storage._counts`), not a
        walk over the items before it."""
        scope = self._scope(feed_id, category_id)
        with self._snapshot() as connection:
            total, window = _counts.locate(connection, scope, page * per_page, per_page)
            # The site's counts hold published feeds only; so must its listing.
            rows: list[Row[Any]] = []
            if window is not None:
                private = scope.kind == "site" and connection.execute(_ANY_UNPUBLISHED).first() is not None
                rows = list(connection.execute(*_window_query(scope, window, per_page, published_only=private)))
        return Page(items=tuple(item_from_row(row) for row in rows), page=page, per_page=per_page, total=total)

    def latest(self, limit: int, *, feed_id: int | None = None, category_id: int | None = None) -> list[Item]:
        return list(self.page(0, limit, feed_id=feed_id, category_id=category_id).items)

    def latest_per_feed(self, feed_ids: Iterable[int], limit: int) -> dict[int, list[Item]]:
        """The ``limit`` newest items of each feed (for /aggregator/sources),
        newest first: a LIMIT per feed down its (feed_id, date, id) index,
        one statement for them all; no other item is read."""
        return self._newest("feed", feed_ids, limit)

    def latest_per_category(self, category_ids: Iterable[int], limit: int) -> dict[int, list[Item]]:
        """The ``limit`` newest items of each category (for
        /aggregator/categories), newest first: a LIMIT per category down its
        ``category_items``, one statement for them all."""
        return self._newest("category", category_ids, limit)

    def _newest(self, kind: Literal["feed", "category"], owner_ids: Iterable[int], limit: int) -> dict[int, list[Item]]:
        ids = list(dict.fromkeys(owner_ids))
        result: dict[int, list[Item]] = {owner: [] for owner in ids}
        if not ids or limit <= 0:
            return result
        with self.db.read() as connection:
            if self.db.is_sqlite:
                for start in range(0, len(ids), _OWNERS_PER_UNION):
                    chunk = ids[start : start + _OWNERS_PER_UNION]
                    values = {f"owner_{n}": owner for n, owner in enumerate(chunk)}
                    for row in connection.execute(_newest_union(kind, len(chunk), limit), values):
                        result[row.owner].append(item_from_row(row))
            else:
                for row in connection.execute(_newest_lateral(kind, limit), {"owners": ids}):
                    result[row.owner].append(item_from_row(row))
        for found in result.values():
            found.sort(key=lambda item: (item.date, item.id), reverse=True)
        return result

    def existing(self, connection: Connection, feed_id: int, keys: Iterable[str]) -> dict[str, tuple[int, str, datetime]]:
        """key → (item id, hash, sort date) for those of ``keys`` already stored for the feed."""
        found: dict[str, tuple[int, str, datetime]] = {}
        key_list = list(dict.fromkeys(keys))
        for start in range(0, len(key_list), _CHUNK):
            chunk = key_list[start : start + _CHUNK]
            rows = connection.execute(_EXISTING, {"feed_id": feed_id, "keys": chunk})
            for key, item_id, item_hash, date in rows:
                found[key] = (item_id, item_hash, date)
        return found

    def read_existing(self, feed_id: int, keys: Iterable[str]) -> dict[str, tuple[int, str, datetime]]:
        with self.db.read() as connection:
            return self.existing(connection, feed_id, keys)

    def insert(self, connection: Connection, feed_id: int, records: Iterable[ItemRecord], now: datetime) -> int:
        return self.insert_many(connection, [(feed_id, records)], now)

    def insert_many(self, connection: Connection, batches: Iterable[tuple[int, Iterable[ItemRecord]]], now: datetime) -> int:
        """Insert several feeds' new items with one statement (executemany),
        and count them."""
        rows = [(*_record_row(r), feed_id, now) for feed_id, records in batches for r in records]
        if not rows:
            return 0
        last = _category_items.last_item_id(connection)
        inserted = bulk_insert(connection, items, _INSERT_COLUMNS, rows)
        tally = _counts.Tally()
        arrived: Counter[int] = Counter()
        for row in rows:
            tally.add(row[_FEED], row[_DATE])
            arrived[row[_FEED]] += 1
        memberships = _counts.apply(connection, tally)
        _category_items.file_new(connection, [feed_id for feed_id, categories in memberships.items() if categories], last)
        _reader.count_arrivals(connection, arrived)
        _search.index_new(connection, last)
        _rules.apply_new(self.db, connection, last, now)
        return inserted

    def replace(self, connection: Connection, changed: Mapping[int, ItemRecord]) -> int:
        """Store new versions of items (item id → record); an item whose
        date moves to another bucket is counted there instead."""
        if not changed:
            return 0
        tally = _counts.Tally()
        moved = []
        for item_id, (feed_id, before) in self._dates(connection, changed.keys()).items():
            after = changed[item_id].date
            if after != before:
                moved.append((item_id, after))
            if _counts.fine_bucket(before) != _counts.fine_bucket(after):
                tally.add(feed_id, before, -1)
                tally.add(feed_id, after)
        # Every stored field but the key (the item's identity in its feed).
        rows = [(*_record_row(record)[1:], item_id) for item_id, record in changed.items()]
        replaced = bulk_update(connection, items, "id", _RECORD_COLUMNS[1:], rows)
        _counts.apply(connection, tally)
        _category_items.redate(connection, moved)
        _search.index_changed(connection, changed.keys())
        return replaced

    @staticmethod
    def _dates(connection: Connection, item_ids: Iterable[int]) -> dict[int, tuple[int, datetime]]:
        """item id → (feed id, stored date), the rows locked until the
        caller's transaction ends (PostgreSQL; SQLite has one writer)."""
        ids = list(item_ids)
        found: dict[int, tuple[int, datetime]] = {}
        for start in range(0, len(ids), _CHUNK):
            query = (
                select(items.c.id, items.c.feed_id, items.c.date)
                .where(items.c.id.in_(ids[start : start + _CHUNK]))
                .with_for_update()
            )
            for item_id, feed_id, date in connection.execute(query):
                found[item_id] = (feed_id, date)
        return found

    def delete_for_feed(self, feed_id: int) -> int:
        with self.db.write() as connection:
            _counts.forget_feed(connection, feed_id)
            deleted: int = connection.execute(delete(items).where(items.c.feed_id == feed_id)).rowcount
            _reader.recount(connection, [feed_id])
            return deleted

    def delete_older_than(self, cutoff: datetime) -> int:
        """Retention: delete the items dated before ``cutoff``, and count
        out exactly those this transaction deleted."""
        tally = _counts.Tally()
        deleted = 0
        with self.db.write() as connection:
            # The feeds first, as every writer of counts takes them
            # (lenta.storage._counts.lock_feeds), and then only their items:
            # an old item another feed gets meanwhile waits for the next round.
            old = sorted(set(connection.execute(_FEEDS_BEFORE, {"cutoff": cutoff}).scalars()))
            _counts.lock_feeds(connection, old, "share")
            for start in range(0, len(old), _CHUNK):
                # A starred item stays, however old: a reader kept it.
                chosen = and_(
                    items.c.date < cutoff, items.c.feed_id.in_(old[start : start + _CHUNK]), items.c.id.not_in(_reader.STARRED)
                )
                for feed_id, date in connection.execute(delete(items).where(chosen).returning(items.c.feed_id, items.c.date)):
                    tally.add(feed_id, date, -1)
                    deleted += 1
            _counts.apply(connection, tally)
            if deleted:
                _reader.recount(connection, {feed_id for feed_id, _ in tally.fine})
        return deleted

    def count(self, *, feed_id: int | None = None) -> int:
        """How many items the site (or a feed) has, from the counts."""
        scope = _counts.SITE if feed_id is None else _counts.Scope("feed", feed_id)
        with self.db.read() as connection:
            return _counts.total(connection, scope)

    def get(self, item_id: int) -> Item | None:
        with self.db.read() as connection:
            row = connection.execute(self._select().where(items.c.id == item_id)).first()
        return item_from_row(row) if row else None
