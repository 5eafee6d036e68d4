"""Storage: the one interface to the database, SQLite or PostgreSQL.

``Storage`` groups the per-domain stores (``feeds``, ``items``,
``categories``, ``users``, ``settings``), each in its own module, written
once against SQLAlchemy Core so both backends run the same queries; the
contract suite in ``tests/test_storage.py`` runs against each backend.

    storage = open_storage("lenta.sqlite")          # or "postgresql://…"
    storage.feeds.add(url, now=now)
    storage.write_feed(FeedWrite(...))              # one fetch's outcome, one transaction
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from lenta.storage._base import Database
from lenta.storage._base import translate_errors
from lenta.storage._categories import CategoryStore
from lenta.storage._feeds import FEED_COLUMNS
from lenta.storage._feeds import FeedStore
from lenta.storage._items import ItemStore
from lenta.storage._settings import SettingStore
from lenta.storage._users import UserStore
from lenta.storage.migrate import upgrade
from lenta.storage.records import FeedWrite
from lenta.storage.schema import feeds

__all__ = ["Storage", "open_storage", "FeedWrite"]


class Storage:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.feeds = FeedStore(db)
        self.items = ItemStore(db)
        self.categories = CategoryStore(db)
        self.users = UserStore(db)
        self.settings = SettingStore(db)

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def write_feed(self, write: FeedWrite, now: datetime) -> None:
        """Apply one fetch's outcome in one short transaction: the feed's
        columns, new and changed items, and the fetch-log row."""
        unknown = set(write.feed_changes) - FEED_COLUMNS
        if unknown:
            raise ValueError(f"unknown feed columns: {sorted(unknown)}")
        with self.db.write() as connection:
            if write.feed_changes:
                connection.execute(update(feeds).where(feeds.c.id == write.feed_id).values(**write.feed_changes))
            # Insert oldest first: items with equal dates then sort newest-first by id,
            # as the feed listed them.
            self.items.insert(connection, write.feed_id, reversed(write.new_items), now)
            self.items.replace(connection, write.changed_items)
            if write.log is not None:
                self.feeds.log_fetch(connection, write.feed_id, write.log)

    def close(self) -> None:
        self.db.close()


def open_storage(target: str, *, migrate: bool = True) -> Storage:
    """Open (and by default migrate) the database at ``target``: a file
    path, ``sqlite:///PATH`` or ``postgresql://…``."""
    db = Database(target)
    if migrate:
        with translate_errors():
            upgrade(db.engine)
    return Storage(db)
