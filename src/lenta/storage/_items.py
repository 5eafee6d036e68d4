"""Items: listing pages, identity lookups for updates, retention."""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Row
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import true

from lenta.parse.model import Enclosure
from lenta.storage._base import Database
from lenta.storage._bulk import bulk_insert
from lenta.storage._bulk import bulk_update
from lenta.storage.records import ItemRecord
from lenta.storage.schema import feed_categories
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
        return select(
            items,
            feeds.c.custom_title,
            feeds.c.feed_title,
            feeds.c.url.label("feed_url"),
        ).select_from(items.join(feeds, feeds.c.id == items.c.feed_id))

    @staticmethod
    def _filter(feed_id: int | None, category_id: int | None) -> Any:
        conditions = []
        if feed_id is not None:
            conditions.append(items.c.feed_id == feed_id)
        if category_id is not None:
            conditions.append(
                items.c.feed_id.in_(select(feed_categories.c.feed_id).where(feed_categories.c.category_id == category_id))
            )
        return and_(true(), *conditions)

    def page(
        self,
        page: int,
        per_page: int,
        *,
        feed_id: int | None = None,
        category_id: int | None = None,
    ) -> Page[Item]:
        """Items newest first (item date, then id), Drupal's ``?page=N`` slicing."""
        where = self._filter(feed_id, category_id)
        with self.db.read() as connection:
            total = connection.execute(select(func.count()).select_from(items).where(where)).scalar_one()
            rows = connection.execute(
                self._select()
                .where(where)
                .order_by(items.c.date.desc(), items.c.id.desc())
                .limit(per_page)
                .offset(page * per_page)
            ).all()
        return Page(items=tuple(item_from_row(row) for row in rows), page=page, per_page=per_page, total=total)

    def latest(self, limit: int, *, feed_id: int | None = None, category_id: int | None = None) -> list[Item]:
        return list(self.page(0, limit, feed_id=feed_id, category_id=category_id).items)

    def latest_per_feed(self, feed_ids: Iterable[int], limit: int) -> dict[int, list[Item]]:
        """The ``limit`` newest items of each feed (for /aggregator/sources)."""
        ids = list(feed_ids)
        result: dict[int, list[Item]] = {feed_id: [] for feed_id in ids}
        if not ids or limit <= 0:
            return result
        ranked = (
            self._select()
            .add_columns(
                func.row_number()
                .over(partition_by=items.c.feed_id, order_by=(items.c.date.desc(), items.c.id.desc()))
                .label("rank")
            )
            .where(items.c.feed_id.in_(ids))
            .subquery()
        )
        query = select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.feed_id, ranked.c.rank)
        with self.db.read() as connection:
            for row in connection.execute(query):
                result[row.feed_id].append(item_from_row(row))
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
        """Insert several feeds' new items with one statement (executemany)."""
        rows = [(*_record_row(r), feed_id, now) for feed_id, records in batches for r in records]
        return bulk_insert(connection, items, _INSERT_COLUMNS, rows)

    def replace(self, connection: Connection, changed: Mapping[int, ItemRecord]) -> int:
        if not changed:
            return 0
        # Every stored field but the key (the item's identity in its feed).
        rows = [(*_record_row(record)[1:], item_id) for item_id, record in changed.items()]
        return bulk_update(connection, items, "id", _RECORD_COLUMNS[1:], rows)

    def delete_for_feed(self, feed_id: int) -> int:
        with self.db.write() as connection:
            return connection.execute(delete(items).where(items.c.feed_id == feed_id)).rowcount

    def delete_older_than(self, cutoff: datetime) -> int:
        with self.db.write() as connection:
            return connection.execute(delete(items).where(items.c.date < cutoff)).rowcount

    def count(self, *, feed_id: int | None = None) -> int:
        with self.db.read() as connection:
            return connection.execute(select(func.count()).select_from(items).where(self._filter(feed_id, None))).scalar_one()

    def get(self, item_id: int) -> Item | None:
        with self.db.read() as connection:
            row = connection.execute(self._select().where(items.c.id == item_id)).first()
        return item_from_row(row) if row else None
