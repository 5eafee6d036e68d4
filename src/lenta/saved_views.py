"""Saved views as feeds (issue 11): a reader keeps a search, a folder or a
tag by name, and may publish it, as RSS 2.0, Atom 1.0, JSON Feed 1.1 and a
public page, at an address nobody can guess (a random token of 32 bytes).
Publishing again gives the view a new address; revoking it leaves none:
the old one then answers 404.

    views = lenta.saved_views(user)
    news = views.save_folder(folder_id)
    news = views.publish(news.id)          # news.token: /views/<token>
    shown = lenta.published_view(news.token)
    page = shown.page(0)

What a published view shows is its owner's to read and no one else's:
the items of the feeds its owner follows (in the folder; matching the
search; carrying the tag), and nothing of anyone's read, unread or
starred state. The storage is :mod:`lenta.storage._views`: the owner's
side names the owner in every statement, so another user's view ids are
not found (:class:`~lenta.exceptions.NotFollowingError`, a 404).

Pages are newest first. A folder's are found from its feeds' item counts
(any page costs about what the first does); a search's and a tag's are
bounded, as the reader's search results are: :data:`MAX_PAGES` pages.
"""

from __future__ import annotations

import builtins
import re
import secrets
from typing import TYPE_CHECKING

from lenta.exceptions import InvalidInputError
from lenta.exceptions import NotFollowingError
from lenta.search import Query
from lenta.search import parse_query
from lenta.storage._views import KINDS
from lenta.storage._views import SavedView
from lenta.storage._views import ViewKind
from lenta.storage._views import ViewStore
from lenta.types import Folder
from lenta.types import Item
from lenta.types import Page
from lenta.types import Tag
from lenta.types import User

if TYPE_CHECKING:
    from lenta.core import Lenta

__all__ = ["KINDS", "PublishedView", "SavedView", "SavedViews", "ViewKind", "published_view"]

PER_PAGE = 20  # the public page's items, as the aggregator's pages
FEED_ITEMS = 20  # items in the RSS, Atom and JSON feeds, as /aggregator/rss
MAX_PAGES = 50  # of a search or a tag: their pages are offsets into their hits (lenta.reader.MAX_SEARCH_PAGES)
MAX_VIEWS = 100  # a user's saved views
MAX_NAME_LENGTH = 255
TOKEN_BYTES = 32  # secrets.token_urlsafe: 43 characters
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


def _name(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) > MAX_NAME_LENGTH:
        raise InvalidInputError("A view's name can be at most {n} characters.", n=MAX_NAME_LENGTH)
    return text or None


def _default_name(text: str) -> str:
    """A name made from a folder's, a tag's or a query: cut to fit."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_NAME_LENGTH else text[: MAX_NAME_LENGTH - 1] + "…"


def _query(view: SavedView) -> Query | None:
    return parse_query(view.query or "") if view.kind == "search" else None


def _page(store: ViewStore, view: SavedView, page: int, per_page: int) -> Page[Item]:
    if page < 0:
        raise InvalidInputError("The page number cannot be negative.")
    per_page = max(1, min(per_page, 100))
    return store.page(view, page, per_page, max_results=MAX_PAGES * per_page, query=_query(view))


class SavedViews:
    """``user``'s saved views; made by :meth:`lenta.core.Lenta.saved_views`."""

    def __init__(self, lenta: Lenta, user: User, store: ViewStore) -> None:
        self._lenta = lenta
        self._store = store
        self._shelf = store.of(user.id)
        self.user = user

    def list(self) -> builtins.list[SavedView]:
        """The user's views, oldest first."""
        return self._shelf.list()

    def get(self, view_id: int) -> SavedView:
        """Raises NotFollowingError: not one of the user's views."""
        return self._shelf.get(view_id)

    def folders(self) -> builtins.list[Folder]:
        """The user's folders (a view can be made of any)."""
        return self._shelf.folders()

    def tags(self) -> builtins.list[Tag]:
        """The user's tags (a view can be made of any)."""
        return self._shelf.tags()

    # -- saving ------------------------------------------------------------------

    def save_search(self, query: str, *, name: str | None = None, folder_id: int | None = None) -> SavedView:
        """Save a search (:func:`lenta.search.parse_query`'s words, "phrases"
        and prefix*) of everything the user follows, or of one folder.

        Raises:
            InvalidInputError: an empty or too long query or name, too many views.
            NotFollowingError: the folder is not the user's.
        """
        parse_query(query)
        text = " ".join(query.split())
        return self._save("search", _name(name) or _default_name(text), query=text, folder_id=folder_id)

    def save_folder(self, folder_id: int, *, name: str | None = None) -> SavedView:
        """Save a folder (the feeds in it and in the folders inside it).

        Raises:
            InvalidInputError: a too long name, too many views.
            NotFollowingError: the folder is not the user's.
        """
        folder = next((f for f in self._shelf.folders() if f.id == folder_id), None)
        if folder is None:
            raise NotFollowingError(folder_id)
        return self._save("folder", _name(name) or _default_name(folder.name), folder_id=folder_id)

    def save_tag(self, tag_id: int, *, name: str | None = None) -> SavedView:
        """Save a tag (the items the user put it on).

        Raises:
            InvalidInputError: a too long name, too many views.
            NotFollowingError: the tag is not the user's.
        """
        tag = next((t for t in self._shelf.tags() if t.id == tag_id), None)
        if tag is None:
            raise NotFollowingError(tag_id)
        return self._save("tag", _name(name) or _default_name(tag.name), tag_id=tag_id)

    def _save(
        self, kind: ViewKind, name: str, *, query: str | None = None, folder_id: int | None = None, tag_id: int | None = None
    ) -> SavedView:
        if self._shelf.count() >= MAX_VIEWS:
            raise InvalidInputError("You can keep at most {n} saved views.", n=MAX_VIEWS)
        return self._shelf.add(name=name, kind=kind, now=self._lenta.clock(), query=query, folder_id=folder_id, tag_id=tag_id)

    def rename(self, view_id: int, name: str) -> SavedView:
        """Raises InvalidInputError (an empty or too long name), NotFollowingError."""
        cleaned = _name(name)
        if cleaned is None:
            raise InvalidInputError("A saved view needs a name.")
        return self._shelf.rename(view_id, cleaned)

    def delete(self, view_id: int) -> None:
        """Delete a view; its address, if it had one, answers 404 from now on."""
        self._shelf.delete(view_id)

    # -- publishing ----------------------------------------------------------------

    def publish(self, view_id: int) -> SavedView:
        """Publish a view at a new address (``token``); an address it had
        before stops answering. Raises NotFollowingError."""
        return self._shelf.set_token(view_id, secrets.token_urlsafe(TOKEN_BYTES))

    def revoke(self, view_id: int) -> SavedView:
        """Stop publishing a view: its address answers 404. Raises NotFollowingError."""
        return self._shelf.set_token(view_id, None)

    def page(self, view_id: int, page: int = 0, per_page: int = PER_PAGE) -> Page[Item]:
        """What one of the user's views shows (published or not), newest first.

        Raises:
            InvalidInputError: a negative page.
            NotFollowingError: not one of the user's views.
        """
        return _page(self._store, self._shelf.get(view_id), page, per_page)


class PublishedView:
    """A view as its address shows it to anyone: its name and its items."""

    def __init__(self, store: ViewStore, view: SavedView) -> None:
        self._store = store
        self._view = view

    @property
    def name(self) -> str:
        return self._view.name

    @property
    def kind(self) -> ViewKind:
        return self._view.kind

    @property
    def token(self) -> str:
        return self._view.token or ""

    def page(self, page: int = 0, per_page: int = PER_PAGE) -> Page[Item]:
        """Zero-based ``page``, newest first. Raises InvalidInputError: a negative page."""
        return _page(self._store, self._view, page, per_page)

    def latest(self, limit: int = FEED_ITEMS) -> builtins.list[Item]:
        """The newest ``limit`` items, for the feeds."""
        return list(self.page(0, limit).items)


def published_view(store: ViewStore, token: str) -> PublishedView:
    """The view published at ``token``. Raises NotFollowingError: no view is
    (a token never given, or revoked, or its view deleted)."""
    view = store.by_token(token) if TOKEN.fullmatch(token) else None
    if view is None:
        raise NotFollowingError("view")
    return PublishedView(store, view)
