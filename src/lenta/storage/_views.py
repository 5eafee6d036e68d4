"""Saved views (issue 11): a reader's searches, folders and tags kept by
name (``saved_views``, migration 0011), and the items each one shows.

The owner's side is :class:`ViewShelf`, made for one user id by
:meth:`ViewStore.of`: as :class:`lenta.storage._reader.UserShelf`, every
statement names the user, so another user's view, folder or tag ids are
"not found" (:class:`~lenta.exceptions.NotFollowingError`). The public
side is :meth:`ViewStore.by_token`: the view published at a token, if
any.

What a view shows is read from its owner's subscriptions and nothing
else: a folder's items are those of the feeds the owner follows in it and
in its sub-folders; a search's, the owner's items matching it (the search
index, :mod:`lenta.storage._search`); a tag's, the owner's items carrying
it (of feeds the owner still follows). No read, unread or starred state
is read, the owner's or anyone's.

Pages, newest first:

- a folder's page N is found from its feeds' item counts summed
  (:func:`lenta.storage._counts.locate_feeds`), then a seek of each feed's
  ``(feed_id, date, id)`` index into that window: no walk over the items
  before the page, however many there are;
- a search's and a tag's pages are an OFFSET into their hits, so they are
  bounded (``max_results``, as :meth:`lenta.reader.Reader.search` bounds
  search pages): at most that many hits are counted or skipped.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import Literal

from sqlalchemy import Connection
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update

from lenta.exceptions import NotFollowingError
from lenta.search import Query
from lenta.storage import _counts
from lenta.storage import _search
from lenta.storage._base import Database
from lenta.storage._items import _ITEM_ROWS
from lenta.storage._items import _NEWEST_FIRST
from lenta.storage._items import _ROW_COLUMNS
from lenta.storage._items import item_from_row
from lenta.storage._reader import descendants
from lenta.storage.schema import feeds
from lenta.storage.schema import folders
from lenta.storage.schema import item_tags
from lenta.storage.schema import items
from lenta.storage.schema import saved_views
from lenta.storage.schema import subscription_folders
from lenta.storage.schema import subscriptions
from lenta.storage.schema import tags
from lenta.types import Folder
from lenta.types import Item
from lenta.types import Page
from lenta.types import Tag

ViewKind = Literal["search", "folder", "tag"]
KINDS: tuple[ViewKind, ...] = ("search", "folder", "tag")
_CHUNK = 500
_REPEATABLE_READ = text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

_v = saved_views.c
_s = subscriptions.c


@dataclass(frozen=True, slots=True)
class SavedView:
    """A reader's saved search, folder or tag. ``token``: where it is
    published (None: it is not)."""

    id: int
    user_id: int
    name: str
    kind: ViewKind
    query: str | None
    folder_id: int | None
    tag_id: int | None
    token: str | None
    created_at: datetime


_COLUMNS = (_v.id, _v.user_id, _v.name, _v.kind, _v.query, _v.folder_id, _v.tag_id, _v.token, _v.created_at)


def _view(row: Any) -> SavedView:
    kind: ViewKind = next((k for k in KINDS if k == row.kind), "search")
    return SavedView(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        kind=kind,
        query=row.query,
        folder_id=row.folder_id,
        tag_id=row.tag_id,
        token=row.token,
        created_at=row.created_at,
    )


class ViewStore:
    """The saved views; one user's through :meth:`of`, a published one by its token."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def of(self, user_id: int) -> ViewShelf:
        return ViewShelf(self.db, user_id)

    def by_token(self, token: str) -> SavedView | None:
        """The view published at ``token`` (None: none is, or no longer)."""
        if not token:
            return None
        with self.db.read() as connection:
            row = connection.execute(select(*_COLUMNS).where(_v.token == token)).first()
        return _view(row) if row is not None else None

    def page(self, view: SavedView, page: int, per_page: int, *, max_results: int, query: Query | None = None) -> Page[Item]:
        """Zero-based ``page`` of what ``view`` shows, newest first, read from
        its owner's subscriptions (``view.user_id``). A search view needs its
        parsed ``query``; its pages and a tag's reach ``max_results`` at most."""
        with self.db.read() as connection:
            if not self.db.is_sqlite:  # the counts and the items seen in one state
                connection.execute(_REPEATABLE_READ)
            shelf = ViewShelf(self.db, view.user_id)
            if view.kind == "folder":
                feed_ids = shelf._feeds_in(connection, view.folder_id) if view.folder_id is not None else []
                total, found = folder_page(connection, feed_ids, page * per_page, per_page)
            elif view.kind == "tag":
                total, found = shelf._tag_page(connection, view.tag_id, page * per_page, per_page, max_results)
            else:
                if query is None:
                    raise ValueError("a search view's page needs its query")
                within = shelf._feeds_in(connection, view.folder_id) if view.folder_id is not None else None
                total, found = shelf._search_page(connection, query, within, page * per_page, per_page, max_results)
        return Page(items=tuple(found), page=page, per_page=per_page, total=total)


def folder_page(connection: Connection, feed_ids: Sequence[int], offset: int, limit: int) -> tuple[int, list[Item]]:
    """(how many items ``feed_ids`` hold, the ``limit`` after the first
    ``offset`` of them, newest first): the page located from the feeds'
    counts, then each feed's index sought to it."""
    total, window = _counts.locate_feeds(connection, feed_ids, offset, limit)
    if window is None or not feed_ids:
        return total, []
    return total, _window_items(connection, sorted(set(feed_ids)), window, limit)


def _window_items(connection: Connection, feed_ids: Sequence[int], window: _counts.Window, limit: int) -> builtins.list[Item]:
    """The ``limit`` items after the first ``window.skip`` of the window,
    of ``feed_ids``: their ids from the ``(feed_id, date, id)`` index, a
    chunk of feeds at a time (merged here), then only the page's rows."""
    wanted = window.skip + limit
    date = items.c.date
    found: list[tuple[datetime, int]] = []
    for start in range(0, len(feed_ids), _CHUNK):
        query = select(date, items.c.id).where(items.c.feed_id.in_(feed_ids[start : start + _CHUNK]))
        if window.start is not None:
            query = query.where(date >= bindparam("start", window.start, type_=date.type))
        if window.end is not None:
            query = query.where(date < bindparam("end", window.end, type_=date.type))
        query = query.order_by(date.desc(), items.c.id.desc()).limit(wanted)
        found.extend((row_date, item_id) for row_date, item_id in connection.execute(query))
    found.sort(reverse=True)
    ids = [item_id for _, item_id in found[window.skip : wanted]]
    if not ids:
        return []
    rows = connection.execute(_ITEM_ROWS.where(items.c.id.in_(ids)).order_by(*_NEWEST_FIRST))
    return [item_from_row(row) for row in rows]


class ViewShelf:
    """One user's saved views. Every statement names the user; ids of
    anyone else's views, folders and tags are not found."""

    def __init__(self, db: Database, user_id: int) -> None:
        self.db = db
        self.user_id = user_id

    # -- the views -------------------------------------------------------------

    def list(self) -> builtins.list[SavedView]:
        """The user's views, oldest first."""
        with self.db.read() as connection:
            rows = connection.execute(select(*_COLUMNS).where(_v.user_id == self.user_id).order_by(_v.id)).all()
        return [_view(row) for row in rows]

    def get(self, view_id: int) -> SavedView:
        with self.db.read() as connection:
            return self._get(connection, view_id)

    def _get(self, connection: Connection, view_id: int) -> SavedView:
        row = connection.execute(select(*_COLUMNS).where(_v.id == view_id, _v.user_id == self.user_id)).first()
        if row is None:
            raise NotFollowingError(view_id)
        return _view(row)

    def count(self) -> int:
        with self.db.read() as connection:
            return int(connection.execute(select(func.count()).where(_v.user_id == self.user_id)).scalar_one())

    def add(
        self,
        *,
        name: str,
        kind: ViewKind,
        now: datetime,
        query: str | None = None,
        folder_id: int | None = None,
        tag_id: int | None = None,
    ) -> SavedView:
        """Save a view. Its folder and its tag must be the user's (else
        NotFollowingError, checked in the transaction that saves it)."""
        with self.db.write() as connection:
            if folder_id is not None:
                self._folder(connection, folder_id)
            if tag_id is not None:
                self._tag(connection, tag_id)
            new_id = connection.execute(
                insert(saved_views)
                .values(
                    user_id=self.user_id,
                    name=name,
                    kind=kind,
                    query=query,
                    folder_id=folder_id,
                    tag_id=tag_id,
                    token=None,
                    created_at=now,
                )
                .returning(_v.id)
            ).scalar_one()
            return self._get(connection, new_id)

    def _change(self, view_id: int, values: Mapping[str, Any]) -> SavedView:
        with self.db.write() as connection:
            self._get(connection, view_id)
            connection.execute(update(saved_views).where(_v.id == view_id, _v.user_id == self.user_id).values(**values))
            return self._get(connection, view_id)

    def rename(self, view_id: int, name: str) -> SavedView:
        return self._change(view_id, {"name": name})

    def set_token(self, view_id: int, token: str | None) -> SavedView:
        """Publish the view at ``token`` (the old address, if any, stops
        answering), or stop publishing it (None)."""
        return self._change(view_id, {"token": token})

    def delete(self, view_id: int) -> None:
        with self.db.write() as connection:
            self._get(connection, view_id)
            connection.execute(delete(saved_views).where(_v.id == view_id, _v.user_id == self.user_id))

    # -- what views are made of --------------------------------------------------

    def folders(self) -> builtins.list[Folder]:
        with self.db.read() as connection:
            return self._folders(connection)

    def _folders(self, connection: Connection) -> builtins.list[Folder]:
        c = folders.c
        rows = connection.execute(select(c.id, c.name, c.parent_id).where(c.user_id == self.user_id)).all()
        return [Folder(row.id, row.name, row.parent_id) for row in rows]

    def _folder(self, connection: Connection, folder_id: int) -> Folder:
        for folder in self._folders(connection):
            if folder.id == folder_id:
                return folder
        raise NotFollowingError(folder_id)

    def tags(self) -> builtins.list[Tag]:
        """The user's tags, by name."""
        with self.db.read() as connection:
            rows = connection.execute(select(tags.c.id, tags.c.name).where(tags.c.user_id == self.user_id)).all()
        return sorted((Tag(row.id, row.name) for row in rows), key=lambda t: (t.name.casefold(), t.id))

    def _tag(self, connection: Connection, tag_id: int) -> Tag:
        row = connection.execute(
            select(tags.c.id, tags.c.name).where(tags.c.id == tag_id, tags.c.user_id == self.user_id)
        ).first()
        if row is None:
            raise NotFollowingError(tag_id)
        return Tag(row.id, row.name)

    def _feeds_in(self, connection: Connection, folder_id: int) -> builtins.list[int]:
        """The feeds the user follows in a folder and the folders inside it
        (none: the folder is not the user's)."""
        known = {f.id: f for f in self._folders(connection)}
        if folder_id not in known:
            return []
        m = subscription_folders.c
        query = (
            select(_s.feed_id)
            .join(subscription_folders, m.subscription_id == _s.id)
            .where(_s.user_id == self.user_id, m.folder_id.in_(sorted(descendants(known, folder_id))))
            .distinct()
        )
        return sorted(connection.execute(query).scalars())

    # -- pages of bounded hits -----------------------------------------------------

    def _followed_items(self) -> Any:
        """items joined to the user's subscriptions: only what they follow."""
        return items.join(subscriptions, and_(_s.feed_id == items.c.feed_id, _s.user_id == self.user_id))

    def _search_page(
        self,
        connection: Connection,
        query: Query,
        feed_ids: Sequence[int] | None,
        offset: int,
        limit: int,
        max_results: int,
    ) -> tuple[int, builtins.list[Item]]:
        """The user's items matching ``query`` (of ``feed_ids``, None: of
        everything they follow), newest first; hits past ``max_results``
        are neither counted nor shown."""
        where = [items.c.feed_id.in_(list(feed_ids))] if feed_ids is not None else []
        dialect = connection.dialect.name
        hits, _ = _search.matching(
            query, select(items.c.id).select_from(self._followed_items()).where(*where), items.c.id, dialect
        )
        total = _bounded_count(connection, hits, max_results)
        if offset >= total:
            return total, []
        rows_query = select(*_ROW_COLUMNS).select_from(self._followed_items().join(feeds, feeds.c.id == items.c.feed_id))
        found, _ = _search.matching(query, rows_query.where(*where), items.c.id, dialect)
        page = found.order_by(*_NEWEST_FIRST).limit(min(limit, total - offset)).offset(offset)
        return total, [item_from_row(row) for row in connection.execute(page)]

    def _tag_page(
        self, connection: Connection, tag_id: int | None, offset: int, limit: int, max_results: int
    ) -> tuple[int, builtins.list[Item]]:
        """The user's items carrying their tag, newest first (the tag's
        ``(tag_id, date, item_id)`` index), of feeds they still follow."""
        if tag_id is None:
            return 0, []
        t = item_tags.c
        tagged = (
            item_tags.join(tags, tags.c.id == t.tag_id)
            .join(items, items.c.id == t.item_id)
            .join(subscriptions, and_(_s.feed_id == items.c.feed_id, _s.user_id == self.user_id))
        )
        mine = (t.tag_id == tag_id, tags.c.user_id == self.user_id, t.user_id == self.user_id)
        total = _bounded_count(connection, select(t.item_id).select_from(tagged).where(*mine), max_results)
        if offset >= total:
            return total, []
        page = (
            select(*_ROW_COLUMNS)
            .select_from(tagged.join(feeds, feeds.c.id == items.c.feed_id))
            .where(*mine)
            .order_by(t.date.desc(), t.item_id.desc())
            .limit(min(limit, total - offset))
            .offset(offset)
        )
        return total, [item_from_row(row) for row in connection.execute(page)]


def _bounded_count(connection: Connection, hits: Select[Any], bound: int) -> int:
    """How many rows ``hits`` gives, counting ``bound`` at most."""
    return int(connection.execute(select(func.count()).select_from(hits.limit(bound).subquery())).scalar_one())
