"""The personal reader's storage: each user's subscriptions, folders and
item states (issue 11).

Everything a user owns is reached through :class:`UserShelf`, made for
one user id by :meth:`ReaderStore.of`: every statement it runs names that
user, so a handler cannot read or change another user's data by passing
the other's ids. An id that is not the user's is "not found"
(:class:`~lenta.exceptions.NotFollowingError`), whether or not it exists.

Read state without a row per user and item: a subscription's items with
an id up to its ``read_through`` are read, the others unread, unless an
``item_states`` row of the user says otherwise (``read`` TRUE or FALSE;
NULL: as ``read_through`` says). Marking everything read moves
``read_through`` to the newest item the reader had seen, so items that
arrived meanwhile stay unread. Item ids grow as items arrive.

``subscriptions.unread`` is kept exact in the transactions that change
it: items arriving (:func:`count_arrivals`, from the item writer), a read
or unread mark, marking all read, and items deleted (:func:`recount`).
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import Literal

from sqlalchemy import ColumnElement
from sqlalchemy import Connection
from sqlalchemy import Select
from sqlalchemy import Text
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal_column
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import true
from sqlalchemy import tuple_
from sqlalchemy import type_coerce
from sqlalchemy import union
from sqlalchemy import union_all
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from lenta.exceptions import AlreadyFollowingError
from lenta.exceptions import InvalidInputError
from lenta.exceptions import NotFollowingError
from lenta.search import Query
from lenta.storage import _counts
from lenta.storage import _search
from lenta.storage._base import Database
from lenta.storage.schema import feeds
from lenta.storage.schema import folders
from lenta.storage.schema import item_states
from lenta.storage.schema import item_tags
from lenta.storage.schema import items
from lenta.storage.schema import subscription_folders
from lenta.storage.schema import subscriptions
from lenta.storage.schema import tags
from lenta.types import Folder
from lenta.types import Followed
from lenta.types import FollowedBrief
from lenta.types import ReaderItem
from lenta.types import Tag

View = Literal["unread", "all", "starred"]
# The feeds a listing is of: their ids, or a select of them (a folder's, worked
# out by the database: no list of hundreds of ids to send with each statement).
FeedScope = Sequence[int] | Select[Any]
_CHUNK = 500
# An unread listing of a scope with at most this many unread items (the kept
# counts) is driven by its subscriptions' unread ranges, not a walk down the
# dates. At a million items, SQLite, a page of 31 among 489,000 read items
# (bench/README.md, the reader's figures): 3 unread, 4.9 s by the walk and 5 ms
# by the ranges; 1,000 unread spread over the years, 0.19 s and 0.03 s; 3,000,
# as fast either way. When the unread items are the newest, the walk finds a
# page at once (5 ms) and the ranges take 10-15 ms for a thousand.
FEW_UNREAD = 1000
# A search ranks the latest this many of the user's items that match it (by
# id, as they arrived), best first: a word most items hold costs what a rare
# one does (at a million items, ranking every hit of such a word took seconds).
SEARCH_WINDOW = 500
# PostgreSQL, for a search's transaction: a plan made for its words each time
# (a prepared statement's generic plan cannot tell a word in most items from
# a rare one, which need opposite plans), and one process to run it (starting
# parallel workers for the walk down the index cost more than they saved).
_SEARCH_SETTINGS = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('max_parallel_workers_per_gather', '0', true)"
)
MAX_FOLDER_DEPTH = 16  # folders nested deeper are refused: a tree a person reads, not a chain

# Items starred or tagged by anyone: retention keeps them.
STARRED = union(select(item_states.c.item_id).where(item_states.c.starred_at.is_not(None)), select(item_tags.c.item_id))

_s = subscriptions.c
_st = item_states.c


def count_arrivals(connection: Connection, arrived: Mapping[int, int]) -> None:
    """New items of feeds (feed id → how many), in the transaction that
    inserted them: unread for every follower (their ids are above any
    ``read_through``)."""
    rows = [{"feed": feed_id, "n": n} for feed_id, n in sorted(arrived.items()) if n]
    if rows:
        connection.execute(
            update(subscriptions).where(_s.feed_id == bindparam("feed")).values(unread=_s.unread + bindparam("n")), rows
        )


def _unread_formula(read_through: Any = None) -> Any:
    """The unread count of the subscription row being updated, from scratch:
    its feed's items after ``read_through`` (an expression of the row's
    columns: the one it is being given; None: its own), less those marked
    read, plus those before it marked unread."""
    if read_through is None:
        read_through = _s.read_through
    after = (
        select(func.count()).select_from(items).where(items.c.feed_id == _s.feed_id, items.c.id > read_through).scalar_subquery()
    )
    marked = item_states.alias("marked")
    read_after = (
        select(func.count())
        .select_from(marked)
        .where(
            marked.c.user_id == _s.user_id,
            marked.c.feed_id == _s.feed_id,
            marked.c.read == true(),
            marked.c.item_id > read_through,
        )
        .scalar_subquery()
    )
    unread_before = (
        select(func.count())
        .select_from(marked)
        .where(
            marked.c.user_id == _s.user_id,
            marked.c.feed_id == _s.feed_id,
            marked.c.read == false(),
            marked.c.item_id <= read_through,
        )
        .scalar_subquery()
    )
    return after - read_after + unread_before


def recount(connection: Connection, feed_ids: Iterable[int], *, user_id: int | None = None) -> None:
    """Count the unread items of the subscriptions to ``feed_ids`` (of one
    user, or of everyone) again: after items were deleted, or marked in bulk."""
    ids = sorted(set(feed_ids))
    for start in range(0, len(ids), _CHUNK):
        where: list[ColumnElement[bool]] = [_s.feed_id.in_(ids[start : start + _CHUNK])]
        if user_id is not None:
            where.append(_s.user_id == user_id)
        connection.execute(update(subscriptions).where(*where).values(unread=_unread_formula()))


def _forget_unmarked(connection: Connection, user_id: int) -> None:
    """Drop the user's state rows that say nothing (neither read nor starred)."""
    connection.execute(
        delete(item_states).where(_st.user_id == user_id, _st.read.is_(None), _st.starred_at.is_(None), _st.hidden.is_(None))
    )


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a listing goes on from: after the item dated ``date`` with id
    ``item_id`` in the listing's order (keyset paging: no offset walk)."""

    date: datetime
    item_id: int


class ReaderStore:
    """The reader's tables; one user's part through :meth:`of`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def of(self, user_id: int, clock: Callable[[], datetime] | None = None) -> UserShelf:
        return UserShelf(self.db, user_id, clock)

    def rebuild_search(self) -> int:
        """The full-text index again, whole; returns how many items it holds."""
        with self.db.write() as connection:
            return _search.rebuild(connection)

    def followers(self, feed_id: int) -> int:
        """How many users follow a feed."""
        with self.db.read() as connection:
            return int(connection.execute(select(func.count()).where(_s.feed_id == feed_id)).scalar_one())


def _display_title(custom: str | None, feed_title: str | None, url: str) -> str:
    return custom or feed_title or url


_FOLLOWED_COLUMNS = (
    _s.id,
    _s.feed_id,
    _s.title,
    _s.unread,
    _s.created_at,
    feeds.c.custom_title,
    feeds.c.feed_title,
    feeds.c.url,
    feeds.c.site_url,
    feeds.c.error,
)


class UserShelf:
    """One user's subscriptions, folders and item states. Every statement
    names the user; ids of anyone else's are not found."""

    def __init__(self, db: Database, user_id: int, clock: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self.user_id = user_id
        # When a state changes (item_states.changed_at, read_through_at): what sync APIs ask for.
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- subscriptions -------------------------------------------------------

    def follow(self, feed_id: int, now: datetime, *, title: str | None = None) -> Followed:
        """Follow a feed: every item it has is unread. Raises AlreadyFollowingError."""
        with self.db.write() as connection:
            url = connection.execute(select(feeds.c.url).where(feeds.c.id == feed_id)).scalar()
            if url is None:
                raise NotFollowingError(feed_id)
            unread = _counts.total(connection, _counts.Scope("feed", feed_id))
            first = connection.execute(select(_s.id).where(_s.feed_id == feed_id).limit(1)).first() is None
            try:
                with connection.begin_nested():
                    new_id = connection.execute(
                        insert(subscriptions)
                        .values(user_id=self.user_id, feed_id=feed_id, title=title, created_at=now, read_through=0, unread=unread)
                        .returning(_s.id)
                    ).scalar_one()
            except IntegrityError:
                raise AlreadyFollowingError(url) from None
            if first:  # search covers followed feeds: this one's items join the index
                _search.index_feed(connection, feed_id)
            return self._followed(connection, new_id)

    def unfollow(self, subscription_id: int) -> int:
        """Stop following; the user's marks and stars on the feed's items go
        too. Returns the feed's id."""
        with self.db.write() as connection:
            feed_id = self._feed_of(connection, subscription_id)
            connection.execute(delete(item_states).where(_st.user_id == self.user_id, _st.feed_id == feed_id))
            connection.execute(delete(subscriptions).where(_s.id == subscription_id, _s.user_id == self.user_id))
            if connection.execute(select(_s.id).where(_s.feed_id == feed_id).limit(1)).first() is None:
                _search.drop_feed(connection, feed_id)
            return feed_id

    def followed(self) -> list[Followed]:
        """The user's subscriptions by title, with unread counts and folders."""
        with self.db.read() as connection:
            rows = connection.execute(self._with_folders(connection, *_FOLLOWED_COLUMNS)).all()
        found = [_followed_from_row(row, _folder_ids(row[-1])) for row in rows]
        return sorted(found, key=lambda f: (f.title.casefold(), f.id))

    def _with_folders(self, connection: Connection, *columns: Any) -> Select[Any]:
        """The user's subscriptions' ``columns`` (of subscriptions and feeds),
        each with its folders' ids as ``folder_ids``, a comma-separated list
        (:func:`_folder_ids`): one row a subscription."""
        m = subscription_folders.c
        if connection.dialect.name == "sqlite":
            folder_ids = func.group_concat(m.folder_id)
        else:
            folder_ids = func.string_agg(cast(m.folder_id, Text), literal_column("','"))
        return (
            select(*columns, folder_ids.label("folder_ids"))
            .select_from(
                subscriptions.join(feeds, feeds.c.id == _s.feed_id).outerjoin(subscription_folders, m.subscription_id == _s.id)
            )
            .where(_s.user_id == self.user_id)
            .group_by(_s.id, feeds.c.id)
        )

    def _briefly(self, connection: Connection) -> list[FollowedBrief]:
        """The user's subscriptions as the navigation lists them: id, title,
        unread count, folders; by title."""
        title = func.coalesce(_s.title, feeds.c.custom_title, feeds.c.feed_title, feeds.c.url)
        rows = connection.execute(self._with_folders(connection, _s.id, title, _s.unread)).all()
        found = [FollowedBrief(row[0], row[1], max(0, int(row[2])), _folder_ids(row[3])) for row in rows]
        return sorted(found, key=lambda f: (f.title.casefold(), f.id))

    def navigation(self) -> tuple[list[FollowedBrief], list[Folder], list[Tag]]:
        """What the navigation beside every reader page shows, read at once:
        the subscriptions briefly, the folders and the tags."""
        with self.db.read() as connection:
            return self._briefly(connection), self._folders(connection), self._tags(connection)

    def subscriptions_page(self, start: int, count: int) -> tuple[list[FollowedBrief], list[Folder], list[Tag], list[Followed]]:
        """:meth:`navigation`, and in full the ``count`` subscriptions from
        ``start`` in its order (by title), in one read: only those are read
        whole, however many the user follows."""
        with self.db.read() as connection:
            briefly = self._briefly(connection)
            shown = [f.id for f in briefly[max(0, start) : max(0, start) + max(0, count)]]
            rows = (
                connection.execute(self._with_folders(connection, *_FOLLOWED_COLUMNS).where(_s.id.in_(shown))).all()
                if shown
                else []
            )
            whole = {row[0]: _followed_from_row(row, _folder_ids(row[-1])) for row in rows}
            return briefly, self._folders(connection), self._tags(connection), [whole[i] for i in shown if i in whole]

    def get(self, subscription_id: int) -> Followed:
        with self.db.read() as connection:
            return self._followed(connection, subscription_id)

    def by_feed(self, feed_id: int) -> Followed:
        with self.db.read() as connection:
            found = connection.execute(select(_s.id).where(_s.user_id == self.user_id, _s.feed_id == feed_id)).scalar()
            if found is None:
                raise NotFollowingError(feed_id)
            return self._followed(connection, found)

    def rename(self, subscription_id: int, title: str | None) -> Followed:
        with self.db.write() as connection:
            self._feed_of(connection, subscription_id)
            connection.execute(
                update(subscriptions).where(_s.id == subscription_id, _s.user_id == self.user_id).values(title=title)
            )
            return self._followed(connection, subscription_id)

    def _followed(self, connection: Connection, subscription_id: int) -> Followed:
        row = connection.execute(
            select(*_FOLLOWED_COLUMNS)
            .join(feeds, feeds.c.id == _s.feed_id)
            .where(_s.id == subscription_id, _s.user_id == self.user_id)
        ).first()
        if row is None:
            raise NotFollowingError(subscription_id)
        return _followed_from_row(row, self._memberships(connection, [subscription_id]).get(subscription_id, ()))

    def _feed_of(self, connection: Connection, subscription_id: int) -> int:
        feed_id = connection.execute(select(_s.feed_id).where(_s.id == subscription_id, _s.user_id == self.user_id)).scalar()
        if feed_id is None:
            raise NotFollowingError(subscription_id)
        return int(feed_id)

    def _memberships(self, connection: Connection, subscription_ids: Sequence[int] | None = None) -> dict[int, tuple[int, ...]]:
        m = subscription_folders.c
        query = (
            select(m.subscription_id, m.folder_id)
            .join(subscriptions, _s.id == m.subscription_id)
            .where(_s.user_id == self.user_id)
            .order_by(m.folder_id)
        )
        if subscription_ids is not None:
            query = query.where(m.subscription_id.in_(list(subscription_ids)))
        found: dict[int, list[int]] = {}
        for subscription_id, folder_id in connection.execute(query).all():
            found.setdefault(subscription_id, []).append(folder_id)
        return {key: tuple(value) for key, value in found.items()}

    # -- folders -------------------------------------------------------------

    def folders(self) -> list[Folder]:
        with self.db.read() as connection:
            return self._folders(connection)

    def _folders(self, connection: Connection) -> list[Folder]:
        c = folders.c
        rows = connection.execute(select(c.id, c.name, c.parent_id).where(c.user_id == self.user_id)).all()
        return sorted((Folder(row.id, row.name, row.parent_id) for row in rows), key=lambda f: (f.name.casefold(), f.id))

    def add_folder(self, name: str, parent_id: int | None = None) -> Folder:
        with self.db.write() as connection:
            known = {f.id: f for f in self._folders(connection)}
            self._check_place(known, name, parent_id, moving=None)
            new_id = connection.execute(
                insert(folders).values(user_id=self.user_id, name=name, parent_id=parent_id).returning(folders.c.id)
            ).scalar_one()
            return Folder(new_id, name, parent_id)

    def change_folder(self, folder_id: int, name: str, parent_id: int | None) -> Folder:
        """Rename a folder and put it under ``parent_id`` (None: at the top)."""
        with self.db.write() as connection:
            known = {f.id: f for f in self._folders(connection)}
            if folder_id not in known:
                raise NotFollowingError(folder_id)
            self._check_place(known, name, parent_id, moving=folder_id)
            connection.execute(
                update(folders)
                .where(folders.c.id == folder_id, folders.c.user_id == self.user_id)
                .values(name=name, parent_id=parent_id)
            )
            return Folder(folder_id, name, parent_id)

    def delete_folder(self, folder_id: int) -> None:
        """Delete a folder and the folders inside it; the subscriptions stay."""
        with self.db.write() as connection:
            doomed = sorted(descendants({f.id: f for f in self._folders(connection)}, folder_id))
            connection.execute(delete(folders).where(folders.c.id.in_(doomed), folders.c.user_id == self.user_id))

    @staticmethod
    def _check_place(known: Mapping[int, Folder], name: str, parent_id: int | None, *, moving: int | None) -> None:
        if parent_id is not None and parent_id not in known:
            raise NotFollowingError(parent_id)
        if moving is not None and parent_id is not None and parent_id in descendants(known, moving):
            raise InvalidInputError("A folder cannot be put inside itself.")
        depth, cursor = 1, parent_id
        while cursor is not None:
            depth += 1
            cursor = known[cursor].parent_id
        if depth > MAX_FOLDER_DEPTH:
            raise InvalidInputError("Folders nest at most {depth} deep.", depth=MAX_FOLDER_DEPTH)
        if any(f.parent_id == parent_id and f.name.casefold() == name.casefold() and f.id != moving for f in known.values()):
            raise InvalidInputError("There is already a folder named {name} there.", name=name)

    def file(self, subscription_id: int, folder_ids: Iterable[int]) -> Followed:
        """Put a subscription in exactly these folders (none: in no folder)."""
        wanted = set(folder_ids)
        with self.db.write() as connection:
            self._feed_of(connection, subscription_id)
            known = {f.id for f in self._folders(connection)}
            for folder_id in wanted - known:
                raise NotFollowingError(folder_id)
            m = subscription_folders.c
            connection.execute(delete(subscription_folders).where(m.subscription_id == subscription_id))
            if wanted:
                connection.execute(
                    insert(subscription_folders),
                    [{"subscription_id": subscription_id, "folder_id": folder_id} for folder_id in sorted(wanted)],
                )
            return self._followed(connection, subscription_id)

    def feeds_in(self, folder_id: int | None) -> list[int]:
        """The feed ids of a folder and of the folders inside it; None: every followed feed."""
        with self.db.read() as connection:
            return self._feeds_in(connection, folder_id)

    def _folder_feeds(self, connection: Connection, folder_id: int) -> Select[Any]:
        """The ids of the feeds the user follows in a folder and the folders
        inside it, as a select (NotFollowingError: not the user's folder)."""
        known = {f.id: f for f in self._folders(connection)}
        if folder_id not in known:
            raise NotFollowingError(folder_id)
        inside = sorted(descendants(known, folder_id))
        filed, m = subscriptions.alias("filed"), subscription_folders.c
        return (
            select(filed.c.feed_id)
            .join(subscription_folders, m.subscription_id == filed.c.id)
            .where(filed.c.user_id == self.user_id, m.folder_id.in_(inside))
        )

    def _feeds_in(self, connection: Connection, folder_id: int | None) -> list[int]:
        if folder_id is None:
            return list(connection.execute(select(_s.feed_id).where(_s.user_id == self.user_id)).scalars())
        known = {f.id: f for f in self._folders(connection)}
        if folder_id not in known:
            raise NotFollowingError(folder_id)
        inside = sorted(descendants(known, folder_id))
        m = subscription_folders.c
        query = (
            select(_s.feed_id)
            .join(subscription_folders, m.subscription_id == _s.id)
            .where(_s.user_id == self.user_id, m.folder_id.in_(inside))
            .distinct()
        )
        return list(connection.execute(query).scalars())

    # -- items ---------------------------------------------------------------

    def items(
        self,
        view: View,
        *,
        feed_ids: Sequence[int] | None = None,
        tag_id: int | None = None,
        after: Cursor | None = None,
        limit: int = 50,
        oldest_first: bool = False,
    ) -> list[ReaderItem]:
        """The user's items in a view, newest (or oldest) first, from
        ``after`` on; of some of their feeds (``feed_ids``) or all; with a tag."""
        with self.db.read() as connection:
            return self._items(connection, view, feed_ids, tag_id, after, limit, oldest_first)

    def page(
        self,
        view: View,
        *,
        subscription_id: int | None = None,
        folder_id: int | None = None,
        tag_id: int | None = None,
        after: Cursor | None = None,
        limit: int = 50,
        oldest_first: bool = False,
    ) -> tuple[list[ReaderItem], int]:
        """:meth:`items` of everything, a subscription or a folder (with the
        folders inside it), and the newest item id read before them (what
        "mark all read" reaches up to), in one transaction."""
        with self.db.read() as connection:
            through = self._newest_item_id(connection)
            feed_ids: FeedScope | None = None
            if subscription_id is not None:
                feed_ids = [self._feed_of(connection, subscription_id)]
            elif folder_id is not None:
                feed_ids = self._folder_feeds(connection, folder_id)
            return self._items(connection, view, feed_ids, tag_id, after, limit, oldest_first), through

    def _items(
        self,
        connection: Connection,
        view: View,
        feed_ids: FeedScope | None,
        tag_id: int | None,
        after: Cursor | None,
        limit: int,
        oldest_first: bool,
    ) -> list[ReaderItem]:
        if tag_id is not None:
            self._tag(connection, tag_id)
        if view == "unread" and tag_id is None:
            unread, feeds_with_unread = self._unread_in(connection, feed_ids)
            if unread == 0:
                # Nothing unread (the kept counts say so): a walk down the dates
                # would read every item to find none.
                return []
            if unread <= FEW_UNREAD:
                # A few among many read: found from the subscriptions' unread
                # ranges, not by a walk down the dates past every read item.
                return self._few_unread(connection, feed_ids, feeds_with_unread, after, limit, oldest_first)
        if view == "starred" or tag_id is not None:
            # Few items, found from the user's own rows: joined, they drive the query.
            query = self._item_query(view, feed_ids, oldest_first, tag_id=tag_id).limit(limit)
        else:
            query = self._listing_query(view, feed_ids, oldest_first).limit(limit)
        return [_reader_item(row) for row in connection.execute(_from(query, after, oldest_first))]

    def _few_unread(
        self,
        connection: Connection,
        feed_ids: FeedScope | None,
        feeds_with_unread: int,
        after: Cursor | None,
        limit: int,
        oldest_first: bool,
    ) -> list[ReaderItem]:
        """The unread listing of a scope the kept counts say holds at most
        :data:`FEW_UNREAD` unread items, driven by its subscriptions that
        have any: each one's items after its ``read_through`` (the feed's
        ``(feed_id, id)`` index) not marked read, and its items up to it
        marked unread. The page's ids are picked from those by date, then
        only the page's rows are read, so the work follows the unread items
        (and the ones marked read one by one since the last "mark all
        read"), however much was read before."""
        mine: list[ColumnElement[bool]] = [_s.user_id == self.user_id, _s.unread > 0]
        if feed_ids is not None:
            mine.append(_in(_s.feed_id, feed_ids))
        # The LIMIT (the kept counts' number of such subscriptions) tells PostgreSQL's
        # planner how few they are, so that it seeks each one's items.
        scope = select(_s.feed_id, _s.read_through).where(*mine).limit(max(1, feeds_with_unread)).subquery("unread_feeds")
        shown = or_(_st.hidden.is_(None), _st.hidden == false())
        after_through = (
            select(items.c.id, items.c.date)
            .select_from(
                scope.join(items, and_(items.c.feed_id == scope.c.feed_id, items.c.id > scope.c.read_through)).outerjoin(
                    item_states, and_(_st.user_id == self.user_id, _st.item_id == items.c.id)
                )
            )
            .where(or_(_st.read.is_(None), _st.read == false()), shown)
        )
        marked_unread = (
            select(items.c.id, items.c.date)
            .select_from(
                scope.join(item_states, and_(_st.user_id == self.user_id, _st.feed_id == scope.c.feed_id)).join(
                    items, items.c.id == _st.item_id
                )
            )
            .where(_st.read == false(), _st.item_id <= scope.c.read_through, shown)
        )
        unread = union_all(after_through, marked_unread).subquery("unread")
        order = (unread.c.date, unread.c.id) if oldest_first else (unread.c.date.desc(), unread.c.id.desc())
        picked = _from(select(unread.c.id).order_by(*order).limit(limit), after, oldest_first, unread.c.date, unread.c.id)
        ids = list(connection.execute(picked).scalars())
        if not ids:
            return []
        # Only the page's rows, read whole; the ids drive the query (the subscription looked
        # up per item: joined, SQLite would probe each followed feed for every id).
        query = self._listing_query("unread", None, oldest_first).where(items.c.id.in_(ids))
        return [_reader_item(row) for row in connection.execute(query)]

    def sync_items(self, spec: SyncQuery) -> tuple[list[ReaderItem], int]:
        """The sync APIs' entry list: the user's items matching ``spec``, in
        its order (then id), from its offset; and how many match in all,
        counted up to :data:`MAX_SYNC_TOTAL`."""
        query = self._item_query(spec.view, spec.feed_ids, False, with_hidden=True)
        wheres: list[ColumnElement[bool]] = []
        if spec.read is not None:
            wheres.append(_read_expression() == (true() if spec.read else false()))
        if spec.starred is not None:
            wheres.append(_st.starred_at.is_not(None) if spec.starred else _st.starred_at.is_(None))
        if spec.item_ids is not None:
            wheres.append(items.c.id.in_(list(spec.item_ids)))
        if spec.after_id is not None:
            wheres.append(items.c.id > spec.after_id)
        if spec.before_id is not None:
            wheres.append(items.c.id < spec.before_id)
        published = func.coalesce(items.c.published_at, items.c.date)
        if spec.published_after is not None:
            wheres.append(published > spec.published_after)
        if spec.published_before is not None:
            wheres.append(published < spec.published_before)
        query = query.where(*wheres)
        column = {"id": items.c.id, "published_at": published, "created_at": items.c.first_seen_at, "date": items.c.date}.get(
            spec.order, published
        )
        keys = (column, items.c.id) if spec.order != "id" else (items.c.id,)
        ordered = query.order_by(None).order_by(*(key.desc() if spec.descending else key.asc() for key in keys))
        with self.db.read() as connection:
            rows = connection.execute(ordered.limit(spec.limit).offset(spec.offset)).all()
            counted = select(func.count()).select_from(query.order_by(None).limit(MAX_SYNC_TOTAL).subquery())
            total = int(connection.execute(counted).scalar_one())
        return [_reader_item(row) for row in rows], total

    def _unread_in(self, connection: Connection, feed_ids: FeedScope | None) -> tuple[int, int]:
        """The user's unread items in these feeds (None: all), and how many of
        the subscriptions have any, from the kept counts."""
        with_unread = func.count(case((_s.unread > 0, 1)))
        query = select(func.coalesce(func.sum(_s.unread), 0), with_unread).where(_s.user_id == self.user_id)
        if feed_ids is not None:
            query = query.where(_in(_s.feed_id, feed_ids))
        unread, feeds = connection.execute(query).one()
        return int(unread), int(feeds)

    def items_in(self, connection: Connection, feed_ids: Sequence[int], limit: int) -> list[ReaderItem]:
        """The newest ``limit`` items of these feeds, hidden ones too, in the caller's transaction."""
        query = self._item_query("all", feed_ids, False, with_hidden=True).limit(limit)
        return [_reader_item(row) for row in connection.execute(query)]

    def item(self, item_id: int) -> ReaderItem:
        """One of the user's items (of a feed they follow)."""
        with self.db.read() as connection:
            row = connection.execute(self._item_query("all", None, False, with_hidden=True).where(items.c.id == item_id)).first()
        if row is None:
            raise NotFollowingError(item_id)
        return _reader_item(row)

    def _listing_query(
        self, view: View, feed_ids: FeedScope | None, oldest_first: bool, *, tag_id: int | None = None
    ) -> Select[Any]:
        """:meth:`_item_query` for a list read newest (or oldest) first a page
        at a time: the same rows, with the user's subscription looked up per
        item (EXISTS and scalar subqueries) instead of joined, so that the
        only table left to drive the query is ``items``, walked down its
        ``(date, id)`` index until the page is full. Joined, SQLite reads and
        sorts every item of every followed feed for each page
        (bench/README.md, the reader's figures)."""
        from lenta.storage._items import _ROW_COLUMNS

        mine = and_(_s.user_id == self.user_id, _s.feed_id == items.c.feed_id)
        through = select(_s.read_through).where(mine).scalar_subquery()
        own_title = select(_s.title).where(mine).scalar_subquery()
        read = case((_st.read.is_not(None), _st.read), else_=items.c.id <= through)
        query = (
            select(*_ROW_COLUMNS, read.label("is_read"), _st.starred_at, own_title.label("own_title"))
            .select_from(
                items.join(feeds, feeds.c.id == items.c.feed_id).outerjoin(
                    item_states, and_(_st.user_id == self.user_id, _st.item_id == items.c.id)
                )
            )
            .where(exists().where(mine))
            .order_by(*((items.c.date, items.c.id) if oldest_first else (items.c.date.desc(), items.c.id.desc())))
        )
        if view == "unread":
            query = query.where(read == false())
        elif view == "starred":
            query = query.where(_st.starred_at.is_not(None))
        if feed_ids is not None and not isinstance(feed_ids, Select) and len(feed_ids) == 1:
            query = query.where(items.c.feed_id == feed_ids[0])  # its (feed_id, date, id) index
        elif feed_ids is not None:
            # Not by the feed_id index (SQLite would read every item of the feeds
            # and sort them): down the date index, each item's feed checked.
            query = query.where(_in(items.c.feed_id + 0, feed_ids))
        if tag_id is not None:
            query = query.join(item_tags, and_(item_tags.c.item_id == items.c.id, item_tags.c.tag_id == tag_id))
        return query.where(or_(_st.hidden.is_(None), _st.hidden == false()))

    def _item_query(
        self,
        view: View,
        feed_ids: FeedScope | None,
        oldest_first: bool,
        *,
        tag_id: int | None = None,
        with_hidden: bool = False,
        ids_only: bool = False,
    ) -> Select[Any]:
        """The user's items in a view, as reader items (or, ``ids_only``,
        their ids and dates, without the feeds' columns: a search's window
        picks among many before a page is read whole)."""
        from lenta.storage._items import _ROW_COLUMNS  # the public listings' columns, read the same way

        read = _read_expression()
        mine = items.join(subscriptions, and_(_s.feed_id == items.c.feed_id, _s.user_id == self.user_id)).outerjoin(
            item_states, and_(_st.user_id == self.user_id, _st.item_id == items.c.id)
        )
        if ids_only:
            query = select(items.c.id, items.c.date).select_from(mine)
        else:
            query = select(*_ROW_COLUMNS, read.label("is_read"), _st.starred_at, _s.title.label("own_title")).select_from(
                mine.join(feeds, feeds.c.id == items.c.feed_id)
            )
        query = query.order_by(*((items.c.date, items.c.id) if oldest_first else (items.c.date.desc(), items.c.id.desc())))
        if view == "unread":
            query = query.where(read == false())
        elif view == "starred":
            query = query.where(_st.starred_at.is_not(None))
        if feed_ids is not None:
            query = query.where(_in(items.c.feed_id, feed_ids))
        if tag_id is not None:
            query = query.join(item_tags, and_(item_tags.c.item_id == items.c.id, item_tags.c.tag_id == tag_id))
        if not with_hidden:  # a rule hid it: it shows on its own page only
            query = query.where(or_(_st.hidden.is_(None), _st.hidden == false()))
        return query

    def search(
        self,
        query: Query,
        view: View,
        *,
        feed_ids: Sequence[int] | None = None,
        tag_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ReaderItem]:
        """The user's items matching ``query`` in a view, best first; of some
        feeds, with a tag, dated from ``since`` and before ``until``."""
        if tag_id is not None:
            with self.db.read() as connection:
                self._tag(connection, tag_id)
        base = self._item_query(view, feed_ids, False, tag_id=tag_id, ids_only=True)
        if since is not None:
            base = base.where(items.c.date >= since)
        if until is not None:
            base = base.where(items.c.date < until)
        with self.db.read() as connection:
            if not self.db.is_sqlite:
                connection.execute(_SEARCH_SETTINGS)
            hits = _search.latest_hits(connection, query, base, items.c.id, SEARCH_WINDOW).subquery("hits")
            order = (hits.c.rank, hits.c.date.desc(), hits.c.id.desc())
            page = list(connection.execute(select(hits.c.id).order_by(*order).limit(limit).offset(offset)).scalars())
            if not page:
                return []
            # Then only the page's rows, read whole: two small statements plan
            # faster than one joining the window's tables to the page's. The ids
            # drive it (the subscription looked up per item: joined, SQLite would
            # probe each followed feed for every id).
            rows = self._listing_query("all", None, False).where(items.c.id.in_(page)).order_by(None)
            found = {entry.item.id: entry for entry in map(_reader_item, connection.execute(rows))}
            return [found[item_id] for item_id in page if item_id in found]

    @staticmethod
    def _newest_item_id(connection: Connection) -> int:
        """The newest item's id: what "mark all read" reaches up to, read
        when a listing is shown."""
        return int(connection.execute(select(func.max(items.c.id))).scalar() or 0)

    def mark(self, item_ids: Iterable[int], read: bool) -> int:
        """Mark items read or unread; returns how many changed. Items not in a
        followed feed are not found."""
        with self.db.write() as connection:
            return self.mark_in(connection, item_ids, read)

    def mark_in(self, connection: Connection, item_ids: Iterable[int], read: bool) -> int:
        """:meth:`mark` in the caller's transaction."""
        changed = 0
        for item_id in sorted(set(item_ids)):
            state = self._state(connection, item_id)
            default = item_id <= state.through
            current = default if state.read is None else bool(state.read)
            if current == read:
                continue
            self._put_state(connection, state, read=None if read == default else read)
            connection.execute(
                update(subscriptions)
                .where(_s.user_id == self.user_id, _s.feed_id == state.feed_id)
                .values(unread=_s.unread + (-1 if read else 1))
            )
            changed += 1
        return changed

    def star(self, item_id: int, starred: bool, now: datetime) -> None:
        with self.db.write() as connection:
            self.star_in(connection, item_id, starred, now)

    def star_in(self, connection: Connection, item_id: int, starred: bool, now: datetime) -> bool:
        """:meth:`star` in the caller's transaction; whether it changed anything."""
        state = self._state(connection, item_id)
        if (state.starred_at is not None) == starred:
            return False
        self._put_state(connection, state, starred_at=now if starred else None)
        return True

    def hide_in(self, connection: Connection, item_id: int) -> bool:
        """Hide an item from the views (a rule's action), read so that the
        unread counts agree with the lists; whether it changed anything."""
        if self._state(connection, item_id).hidden:
            return False
        self.mark_in(connection, [item_id], True)
        self._put_state(connection, self._state(connection, item_id), hidden=True)
        return True

    # -- tags ----------------------------------------------------------------

    def tags(self) -> list[Tag]:
        with self.db.read() as connection:
            return self._tags(connection)

    def _tags(self, connection: Connection) -> list[Tag]:
        rows = connection.execute(select(tags.c.id, tags.c.name).where(tags.c.user_id == self.user_id)).all()
        return sorted((Tag(row.id, row.name) for row in rows), key=lambda t: (t.name.casefold(), t.id))

    def tag_named(self, connection: Connection, name: str) -> Tag:
        """The user's tag of that name (case aside), made if there is none."""
        for row in connection.execute(select(tags.c.id, tags.c.name).where(tags.c.user_id == self.user_id)):
            if row.name.casefold() == name.casefold():
                return Tag(row.id, row.name)
        new_id = connection.execute(insert(tags).values(user_id=self.user_id, name=name).returning(tags.c.id)).scalar_one()
        return Tag(new_id, name)

    def add_tag(self, name: str) -> Tag:
        with self.db.write() as connection:
            return self.tag_named(connection, name)

    def rename_tag(self, tag_id: int, name: str) -> Tag:
        with self.db.write() as connection:
            self._tag(connection, tag_id)
            for row in connection.execute(select(tags.c.id, tags.c.name).where(tags.c.user_id == self.user_id)):
                if row.id != tag_id and row.name.casefold() == name.casefold():
                    raise InvalidInputError("There is already a tag named {name}.", name=name)
            connection.execute(update(tags).where(tags.c.id == tag_id, tags.c.user_id == self.user_id).values(name=name))
            return Tag(tag_id, name)

    def delete_tag(self, tag_id: int) -> None:
        with self.db.write() as connection:
            self._tag(connection, tag_id)
            connection.execute(delete(tags).where(tags.c.id == tag_id, tags.c.user_id == self.user_id))

    def _tag(self, connection: Connection, tag_id: int) -> Tag:
        row = connection.execute(
            select(tags.c.id, tags.c.name).where(tags.c.id == tag_id, tags.c.user_id == self.user_id)
        ).first()
        if row is None:
            raise NotFollowingError(tag_id)
        return Tag(row.id, row.name)

    def tag_item(self, item_id: int, tag_id: int, tagged: bool = True) -> None:
        with self.db.write() as connection:
            self.tag_item_in(connection, item_id, tag_id, tagged)

    def tag_item_in(self, connection: Connection, item_id: int, tag_id: int, tagged: bool = True) -> bool:
        """Put a tag on an item or take it off, in the caller's transaction;
        whether it changed anything."""
        self._tag(connection, tag_id)
        state = self._state(connection, item_id)
        key = and_(item_tags.c.tag_id == tag_id, item_tags.c.item_id == item_id)
        present = connection.execute(select(item_tags.c.tag_id).where(key)).first() is not None
        if present == tagged:
            return False
        if tagged:
            connection.execute(insert(item_tags).values(tag_id=tag_id, item_id=item_id, user_id=self.user_id, date=state.date))
        else:
            connection.execute(delete(item_tags).where(key))
        return True

    def tags_of(self, item_id: int) -> list[Tag]:
        with self.db.read() as connection:
            self._state(connection, item_id)
            rows = connection.execute(
                select(tags.c.id, tags.c.name)
                .join(item_tags, item_tags.c.tag_id == tags.c.id)
                .where(item_tags.c.item_id == item_id, tags.c.user_id == self.user_id)
            ).all()
        return sorted((Tag(row.id, row.name) for row in rows), key=lambda t: t.name.casefold())

    def mark_all_read(self, feed_ids: Sequence[int] | None, through: int, *, folder_id: int | None = None) -> None:
        """Every item up to id ``through`` (the newest the reader had seen) of
        these feeds (None: all the user follows; or those of ``folder_id`` and
        the folders inside it) read; newer ones stay as they are."""
        with self.db.write() as connection:
            chunks: list[FeedScope | None]
            if folder_id is not None:
                chunks = [self._folder_feeds(connection, folder_id)]
            elif feed_ids is None:
                chunks = [None]
            else:
                ids = sorted(set(feed_ids))
                chunks = [ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK)]
            now = self.clock()
            for chunk in chunks:
                mine: list[ColumnElement[bool]] = [_s.user_id == self.user_id]
                marks: list[ColumnElement[bool]] = [_st.user_id == self.user_id, _st.item_id <= through]
                if chunk is not None:
                    mine.append(_in(_s.feed_id, chunk))
                    marks.append(_in(_st.feed_id, chunk))
                connection.execute(update(item_states).where(*marks, _st.read.is_not(None)).values(read=None))
                # The marks first, then each subscription written once: its new
                # read_through and the unread count that follows from it.
                moved = case((_s.read_through < through, through), else_=_s.read_through)
                connection.execute(
                    update(subscriptions)
                    .where(*mine)
                    .values(read_through=moved, read_through_at=now, unread=_unread_formula(moved))
                )
            _forget_unmarked(connection, self.user_id)

    def mark_tag_read(self, tag_id: int, through: int) -> int:
        """Every item carrying the tag, up to id ``through``, read; how many changed."""
        with self.db.write() as connection:
            self._tag(connection, tag_id)
            tagged = connection.execute(
                select(item_tags.c.item_id).where(
                    item_tags.c.tag_id == tag_id, item_tags.c.user_id == self.user_id, item_tags.c.item_id <= through
                )
            ).scalars()
            return self.mark_in(connection, list(tagged), True)

    def unread_total(self) -> int:
        with self.db.read() as connection:
            found = connection.execute(select(func.sum(_s.unread)).where(_s.user_id == self.user_id)).scalar()
            return int(found or 0)

    def _state(self, connection: Connection, item_id: int) -> _State:
        row = connection.execute(
            select(items.c.id, items.c.feed_id, _s.read_through, items.c.date, _st.read, _st.starred_at, _st.hidden)
            .select_from(
                items.join(subscriptions, and_(_s.feed_id == items.c.feed_id, _s.user_id == self.user_id)).outerjoin(
                    item_states, and_(_st.user_id == self.user_id, _st.item_id == items.c.id)
                )
            )
            .where(items.c.id == item_id)
        ).first()
        if row is None:
            raise NotFollowingError(item_id)
        return _State(*row)

    def _put_state(self, connection: Connection, state: _State, **changes: Any) -> None:
        """Write the item's state with ``changes`` (read, starred_at, hidden)
        over what it was, and when it changed. A row that says nothing but
        that is kept until a "mark all read" covers it: sync APIs ask what
        changed since."""
        values = {"read": state.read, "starred_at": state.starred_at, "hidden": state.hidden or None, **changes}
        values["changed_at"] = self.clock()
        key = and_(_st.user_id == self.user_id, _st.item_id == state.item_id)
        if connection.execute(update(item_states).where(key).values(**values)).rowcount == 0:
            connection.execute(
                insert(item_states).values(
                    user_id=self.user_id, item_id=state.item_id, feed_id=state.feed_id, date=state.date, **values
                )
            )

    # -- id lists for the sync APIs (Fever) -----------------------------------------

    def item_ids(self, *, read: bool | None = None, starred: bool | None = None) -> list[int]:
        """The ids of the user's items (hidden ones too, as :meth:`sync_items`),
        read or unread, starred or not (None: either), ascending, at most
        MAX_SYNC_TOTAL of them: the id lists sync APIs hand out, without
        reading the items themselves."""

        query = self._item_query("all", None, False, with_hidden=True)
        if read is not None:
            query = query.where(_read_expression() == (true() if read else false()))
        if starred is not None:
            starred_at = item_states.c.starred_at
            query = query.where(starred_at.is_not(None) if starred else starred_at.is_(None))
        query = query.with_only_columns(items.c.id).order_by(None).order_by(items.c.id).limit(MAX_SYNC_TOTAL)
        with self.db.read() as connection:
            return [int(item_id) for item_id in connection.execute(query).scalars()]

    def arrived_through(self, moment: datetime) -> int:
        """The id of the newest item that had arrived (was first seen) before
        ``moment``, 0 if none: how far "mark read what arrived before" reaches
        (item ids grow as items arrive; see :meth:`mark_all_read`)."""

        query = select(items.c.id).where(items.c.first_seen_at < moment).order_by(items.c.id.desc()).limit(1)
        with self.db.read() as connection:
            return int(connection.execute(query).scalar() or 0)

    # -- changes by id for the sync APIs (Nextcloud News) ---------------------------

    def sync_changes(self, spec: SyncQuery, since: datetime | None = None) -> list[tuple[ReaderItem, datetime]]:
        """The user's items matching ``spec`` (its view, feeds, read, starred,
        item ids and id bounds; hidden ones too) by id, ascending or
        ``descending``, ``limit`` from ``offset`` (its dates and ``order`` are
        not used), each with when it last changed for the user: the latest of
        its arrival, its own read or starred change and the "mark all read"
        that covered it. With ``since``: only those that changed then or later."""

        st, s, arrived = item_states.c, subscriptions.c, items.c.first_seen_at
        own = func.coalesce(st.changed_at, arrived)
        covered_now = and_(items.c.id <= s.read_through, s.read_through_at.is_not(None))
        covered = case((covered_now, s.read_through_at), else_=arrived)
        latest = case(
            (own >= covered, case((own > arrived, own), else_=arrived)), else_=case((covered > arrived, covered), else_=arrived)
        )
        changed = type_coerce(latest, arrived.type).label("changed_at")
        query = self._item_query(spec.view, spec.feed_ids, False, with_hidden=True).add_columns(changed)
        if spec.read is not None:
            query = query.where(_read_expression() == (true() if spec.read else false()))
        if spec.starred is not None:
            query = query.where(st.starred_at.is_not(None) if spec.starred else st.starred_at.is_(None))
        if spec.item_ids is not None:
            query = query.where(items.c.id.in_(list(spec.item_ids)))
        if spec.after_id is not None:
            query = query.where(items.c.id > spec.after_id)
        if spec.before_id is not None:
            query = query.where(items.c.id < spec.before_id)
        if since is not None:
            query = query.where(or_(arrived >= since, st.changed_at >= since, and_(covered_now, s.read_through_at >= since)))
        key = items.c.id.desc() if spec.descending else items.c.id.asc()
        query = query.order_by(None).order_by(key).limit(spec.limit).offset(spec.offset)
        with self.db.read() as connection:
            rows = connection.execute(query).all()
        return [(_reader_item(row), row.changed_at) for row in rows]

    # -- counts per feed for the sync APIs (Tiny Tiny RSS) ---------------------------

    def feed_counts(
        self, *, read: bool | None = None, starred: bool | None = None, after_id: int | None = None
    ) -> dict[int, int]:
        """How many of the user's items (hidden ones too, as :meth:`sync_items`)
        each followed feed has, read or unread, starred or not (None: either),
        with an id above ``after_id``: feed id → count, feeds with none left out."""

        query = self._item_query("all", None, False, with_hidden=True)
        if read is not None:
            query = query.where(_read_expression() == (true() if read else false()))
        if starred is not None:
            starred_at = item_states.c.starred_at
            query = query.where(starred_at.is_not(None) if starred else starred_at.is_(None))
        if after_id is not None:
            query = query.where(items.c.id > after_id)
        counted = query.with_only_columns(items.c.feed_id, func.count()).order_by(None).group_by(items.c.feed_id)
        with self.db.read() as connection:
            return {int(feed_id): int(n) for feed_id, n in connection.execute(counted).all()}


MAX_SYNC_TOTAL = 100_000  # an entry list's "total" is counted this far at most


@dataclass(frozen=True, slots=True)
class SyncQuery:
    """What a sync API asks of the user's items (lenta.api)."""

    view: View = "all"
    feed_ids: Sequence[int] | None = None
    read: bool | None = None
    starred: bool | None = None
    item_ids: Sequence[int] | None = None
    after_id: int | None = None
    before_id: int | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    order: str = "published_at"  # id, published_at, created_at, date
    descending: bool = False
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class _State:
    """One item as it stands for one user."""

    item_id: int
    feed_id: int
    through: int  # the subscription's read_through
    date: datetime
    read: bool | None
    starred_at: datetime | None
    hidden: bool | None


def _in(column: Any, feed_ids: FeedScope) -> ColumnElement[bool]:
    """``column`` among ``feed_ids``, a list or a select."""
    found: ColumnElement[bool] = column.in_(feed_ids if isinstance(feed_ids, Select) else list(feed_ids))
    return found


def _from(
    query: Select[Any], after: Cursor | None, oldest_first: bool, date: Any = items.c.date, item_id: Any = items.c.id
) -> Select[Any]:
    """A listing (of items, or of ``date`` and ``item_id`` columns) from
    ``after`` on, in its order (keyset paging)."""
    if after is None:
        return query
    position = tuple_(date, item_id)
    point = tuple_(bindparam("cursor_date", after.date, type_=items.c.date.type), bindparam("cursor_id", after.item_id))
    return query.where(position > point if oldest_first else position < point)


def descendants(known: Mapping[int, Folder], folder_id: int) -> set[int]:
    """A folder's id with those of every folder inside it, at any depth."""
    children: dict[int | None, builtins.list[int]] = {}
    for folder in known.values():
        children.setdefault(folder.parent_id, []).append(folder.id)
    found, todo = set(), [folder_id]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, ()))
    return found


def _read_expression() -> Any:
    """Whether the joined item is read for the joined subscription's user."""
    return case((_st.read.is_not(None), _st.read), else_=items.c.id <= _s.read_through)


@functools.lru_cache(maxsize=4096)
def _folder_ids(listed: str | None) -> tuple[int, ...]:
    """The folder ids of :meth:`UserShelf._with_folders`' list, ascending.
    Cached: a reader's thousand subscriptions share a few such lists, and
    the navigation beside every page parses them all."""
    if not listed:
        return ()
    parts = listed.split(",")
    return (int(parts[0]),) if len(parts) == 1 else tuple(sorted(map(int, parts)))


def _followed_from_row(row: Any, folder_ids: tuple[int, ...]) -> Followed:
    """A subscription from a row of :data:`_FOLLOWED_COLUMNS` (first), read by
    position: a reader may follow thousands."""
    subscription_id, feed_id, own_title, unread, created_at, custom_title, feed_title, url, site_url, error = row[:10]
    return Followed(
        id=subscription_id,
        feed_id=feed_id,
        title=_display_title(own_title, custom_title or feed_title, url),
        custom_title=own_title,
        url=url,
        site_url=site_url,
        unread=max(0, int(unread)),
        folder_ids=folder_ids,
        error=error,
        created_at=created_at,
    )


def _reader_item(row: Any) -> ReaderItem:
    from lenta.storage._items import item_from_row

    item = item_from_row(row)
    return ReaderItem(
        item=item, read=bool(row.is_read), starred=row.starred_at is not None, feed_title=row.own_title or item.feed_title
    )
