"""Storage: the one interface to the database, SQLite or PostgreSQL.

``Storage`` groups the per-domain stores (``feeds``, ``items``,
``categories``, ``users``, ``settings``, ``websub``, ``icons``), each in its own
module, written once against SQLAlchemy Core so both backends run the same queries; the
contract suite in ``tests/test_storage.py`` runs against each backend.

    storage = open_storage("lenta.sqlite")          # or "postgresql://…"
    storage.feeds.add(url, now=now)
    storage.feeds.change(feed.id, FeedChanges(custom_title="Mine"))
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from lenta.storage import _counts
from lenta.storage._accounts import AccountStore
from lenta.storage._base import Database
from lenta.storage._base import translate_errors
from lenta.storage._categories import CategoryStore
from lenta.storage._feeds import FeedStore
from lenta.storage._icons import IconStore
from lenta.storage._items import ItemStore
from lenta.storage._reader import ReaderStore
from lenta.storage._rules import RuleBook
from lenta.storage._sessions import LoginFailureStore
from lenta.storage._sessions import SessionStore
from lenta.storage._settings import SettingStore
from lenta.storage._users import UserStore
from lenta.storage._websub import WebSubStore
from lenta.storage.migrate import SchemaChange
from lenta.storage.migrate import migrate as migrate_schema
from lenta.storage.records import FeedChanges
from lenta.storage.records import FetchLogRecord
from lenta.storage.records import ItemRecord
from lenta.types import Session

__all__ = ["Storage", "open_storage", "FeedChanges"]


class Storage:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.feeds = FeedStore(db)
        self.items = ItemStore(db)
        self.categories = CategoryStore(db)
        self.users = UserStore(db)
        self.settings = SettingStore(db)
        self.websub = WebSubStore(db)
        self.icons = IconStore(db)
        self.sessions = SessionStore(db)
        self.login_failures = LoginFailureStore(db)
        self.accounts = AccountStore(db)  # users' second factors and settings
        self.reader = ReaderStore(db)  # each user's subscriptions, folders, read and starred items
        self.migration: SchemaChange | None = None  # what opening it did to the schema

    def rules_of(self, user_id: int) -> RuleBook:
        """One user's rules (lenta.storage._rules)."""
        return RuleBook(self.db, user_id)

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def apply_feed_writes(
        self,
        connection: Connection,
        writes: Sequence[tuple[int, FeedChanges, Sequence[ItemRecord], FetchLogRecord | None]],
        changed_items: Mapping[int, ItemRecord],
        now: datetime,
    ) -> None:
        """Many feeds' outcomes in a few statements, inside the caller's
        transaction: (feed id, column changes, new items, log row) each,
        plus the changed items of all of them (by item id)."""
        # The feeds' rows first, in id order, as every writer of item counts takes them.
        _counts.lock_feeds(connection, [feed_id for feed_id, _, _, _ in writes], "write")
        self.feeds.change_many(connection, [(feed_id, changes) for feed_id, changes, _, _ in writes])
        # Insert each feed's new items oldest first: items with equal dates
        # then sort newest-first by id, as the feed listed them.
        self.items.insert_many(connection, [(feed_id, reversed(new)) for feed_id, _, new, _ in writes], now)
        self.items.replace(connection, changed_items)
        logs = [(feed_id, log) for feed_id, _, _, log in writes if log is not None]
        self.feeds.log_fetches(connection, logs)
        self.feeds.count_fetches(connection, [(log.outcome, log.duration) for _, log in logs])

    def signed_in(self, session_id: str, now: datetime) -> tuple[Session, dict[str, str], dict[str, str]] | None:
        """The live session with this id, its user's stored settings and the
        site's, in one read (every signed-in page needs all three); None if
        there is no such session."""
        with self.db.read() as connection:
            session = self.sessions.get_in(connection, session_id, now)
            if session is None:
                return None
            return session, self.accounts.settings_in(connection, session.user.id), self.settings.all_in(connection)

    def close(self) -> None:
        self.db.close()


def open_storage(target: str, *, migrate: bool | None = None) -> Storage:
    """Open the database at ``target``: a file path, ``sqlite:///PATH`` or
    ``postgresql://…``.

    Args:
        migrate: None (the default): a new database is given the schema, an
            existing one must be at the newest already (issue 9: migrating
            is ``lenta migrate``'s, see :mod:`lenta.storage.migrate`); True:
            migrate whatever is there; False: leave the schema alone (tests
            that build an old database).

    Raises:
        SchemaVersionError: the schema is out of date (and ``migrate`` is
            None) or newer than this lenta knows.
    """
    db = Database(target)
    change = None
    if migrate is not False:
        try:
            with translate_errors():
                change = migrate_schema(db.engine, existing=migrate is True)
        except BaseException:
            db.close()
            raise
    storage = Storage(db)
    storage.migration = change
    return storage
