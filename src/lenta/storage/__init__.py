"""Storage: the one interface to the database, SQLite or PostgreSQL.

``Storage`` groups the per-domain stores (``feeds``, ``items``,
``categories``, ``users``, ``settings``, ``websub``), each in its own
module, written once against SQLAlchemy Core so both backends run the same queries; the
contract suite in ``tests/test_storage.py`` runs against each backend.

    storage = open_storage("lenta.sqlite")          # or "postgresql://…"
    storage.feeds.add(url, now=now)
    storage.write_feed(FeedWrite(...))              # one fetch's outcome, one transaction
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from lenta.storage._base import Database
from lenta.storage._base import translate_errors
from lenta.storage._categories import CategoryStore
from lenta.storage._feeds import FeedStore
from lenta.storage._items import ItemStore
from lenta.storage._sessions import LoginFailureStore
from lenta.storage._sessions import SessionStore
from lenta.storage._settings import SettingStore
from lenta.storage._users import UserStore
from lenta.storage._websub import WebSubStore
from lenta.storage.migrate import upgrade
from lenta.storage.records import FeedWrite
from lenta.storage.records import FetchLogRecord
from lenta.storage.records import ItemRecord

__all__ = ["Storage", "open_storage", "FeedWrite"]


class Storage:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.feeds = FeedStore(db)
        self.items = ItemStore(db)
        self.categories = CategoryStore(db)
        self.users = UserStore(db)
        self.settings = SettingStore(db)
        self.websub = WebSubStore(db)
        self.sessions = SessionStore(db)
        self.login_failures = LoginFailureStore(db)

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def write_feed(self, write: FeedWrite, now: datetime) -> None:
        """Apply one fetch's outcome in one short transaction: the feed's
        columns, new and changed items, and the fetch-log row."""
        with self.db.write() as connection:
            self.apply_feed_write(
                connection, write.feed_id, write.feed_changes, write.new_items, write.changed_items, write.log, now
            )

    def apply_feed_write(
        self,
        connection: Connection,
        feed_id: int,
        changes: Mapping[str, object],
        new_items: Sequence[ItemRecord],
        changed_items: Mapping[int, ItemRecord],
        log: FetchLogRecord | None,
        now: datetime,
    ) -> None:
        """The body of :meth:`write_feed`, inside a caller's transaction."""
        self.apply_feed_writes(connection, [(feed_id, changes, new_items, log)], changed_items, now)

    def apply_feed_writes(
        self,
        connection: Connection,
        writes: Sequence[tuple[int, Mapping[str, object], Sequence[ItemRecord], FetchLogRecord | None]],
        changed_items: Mapping[int, ItemRecord],
        now: datetime,
    ) -> None:
        """Many feeds' outcomes in a few statements, inside the caller's
        transaction: (feed id, column changes, new items, log row) each,
        plus the changed items of all of them (by item id)."""
        self.feeds.change_many(connection, [(feed_id, changes) for feed_id, changes, _, _ in writes])
        # Insert each feed's new items oldest first: items with equal dates
        # then sort newest-first by id, as the feed listed them.
        self.items.insert_many(connection, [(feed_id, reversed(new)) for feed_id, _, new, _ in writes], now)
        self.items.replace(connection, changed_items)
        logs = [(feed_id, log) for feed_id, _, _, log in writes if log is not None]
        self.feeds.log_fetches(connection, logs)
        self.feeds.count_fetches(connection, [(log.outcome, log.duration) for _, log in logs])

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
