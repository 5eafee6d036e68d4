"""One user's personal reader (issue 11): the facade the reader's pages,
and later the sync APIs, call.

A feed is fetched once however many people follow it: following a URL
that is already a feed adds no fetch; a new one is checked and fetched
as an admin's is (:meth:`lenta.core.Lenta.add_and_fetch`), but not
published on the public pages. Everything else is the user's own, kept by
:class:`lenta.storage._reader.UserShelf`, which names the user in every
statement.

    reader = lenta.reader(user)
    followed = await reader.follow("https://example.org/feed")
    page = reader.items("unread")
    reader.mark_all_read(through=page.through)
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lenta import rules as rule_logic
from lenta.core import Lenta
from lenta.core import normalize_feed_url
from lenta.credentials import split_userinfo
from lenta.exceptions import FeedExistsError
from lenta.exceptions import FeedNotFoundError
from lenta.exceptions import InvalidInputError
from lenta.exceptions import NotFollowingError
from lenta.links import safe_url
from lenta.search import parse_query
from lenta.storage import _reader as shelves
from lenta.storage._reader import Cursor
from lenta.storage._reader import SyncQuery
from lenta.storage._reader import UserShelf
from lenta.storage._reader import View
from lenta.storage._rules import Effect
from lenta.storage._rules import RuleBook
from lenta.storage._rules import RuleSpec
from lenta.types import Folder
from lenta.types import Followed
from lenta.types import FollowedBrief
from lenta.types import ReaderItem
from lenta.types import Rule
from lenta.types import Tag
from lenta.types import User

VIEWS: tuple[View, ...] = ("unread", "all", "starred")
MAX_PER_PAGE = 200
MAX_IMPORT = 5000  # feeds in one OPML file a reader imports
MAX_SEARCH_PAGES = 50  # results are ranked, so a page is an offset into them: bounded
MAX_NAME_LENGTH = 255

__all__ = ["Cursor", "Navigation", "Reader", "ReaderPage", "SearchPage", "VIEWS"]


@dataclass(frozen=True, slots=True)
class ReaderPage:
    """A page of a view: its items, where the next page starts (None: this
    is the last), and the newest item id when it was read, which "mark all
    read" reaches up to (what arrives after stays unread)."""

    items: tuple[ReaderItem, ...]
    next: Cursor | None
    through: int


@dataclass(frozen=True, slots=True)
class Navigation:
    """The navigation beside every reader page: the subscriptions (by
    title), the folders and the tags."""

    followed: list[FollowedBrief]
    folders: list[Folder]
    tags: list[Tag]


@dataclass(frozen=True, slots=True)
class ReaderImport:
    """What an OPML import did: feeds newly followed, already followed,
    entries skipped (not http(s)), folders made."""

    added: int
    already: int
    skipped: int
    folders: int


@dataclass(frozen=True, slots=True)
class SearchPage:
    """A page of search results, best first; ``more``: a next page exists;
    ``latest_only``: this is the last page, and there were more hits than
    the ``window`` latest that a search ranks (older ones are left out)."""

    items: tuple[ReaderItem, ...]
    page: int
    more: bool
    latest_only: bool = False
    window: int = 0


def _one_scope(subscription_id: int | None, folder_id: int | None) -> None:
    if subscription_id is not None and folder_id is not None:
        raise InvalidInputError("A view is of one feed or of one folder, not both.")


def _name(text: str | None, *, folder: bool = False) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) > MAX_NAME_LENGTH:
        if folder:
            raise InvalidInputError("A folder name can be at most {n} characters.", n=MAX_NAME_LENGTH)
        raise InvalidInputError("A title can be at most {n} characters.", n=MAX_NAME_LENGTH)
    return text or None


class Reader:
    """``user``'s reader; made by :meth:`lenta.core.Lenta.reader`."""

    def __init__(self, lenta: Lenta, user: User, shelf: UserShelf, rulebook: RuleBook) -> None:
        self._lenta = lenta
        self._shelf = shelf
        self._rules = rulebook
        self.user = user

    # -- subscriptions ---------------------------------------------------------

    async def follow(self, url: str, *, title: str | None = None, folder_ids: Iterable[int] = ()) -> Followed:
        """Follow the feed at ``url`` (a page's feed is found by autodiscovery).

        Raises:
            InvalidFeedURLError, InvalidInputError: bad input.
            AlreadyFollowingError: the user follows it already.
            FetchError, ParseError: a new URL that gives no feed.
            NotFollowingError: one of ``folder_ids`` is not the user's.
        """
        title = _name(title)
        wanted = list(folder_ids)
        known = {folder.id for folder in self._shelf.folders()}
        for folder_id in wanted:
            if folder_id not in known:
                raise NotFollowingError(folder_id)
        address, credentials = split_userinfo(normalize_feed_url(url))
        if credentials:
            # The feed would be shared with whoever follows the same URL, and so would what the password opens.
            raise InvalidInputError("A feed you follow cannot have a user name or password in its URL.")
        try:
            feed = self._lenta.get_feed(address)
        except FeedNotFoundError:
            try:
                feed = await self._lenta.add_and_fetch(address, published=False)
            except FeedExistsError as exists:  # a page whose feed is already there
                feed = self._lenta.get_feed(exists.url)
        followed = self._shelf.follow(feed.id, self._lenta.clock(), title=title)
        if wanted:
            followed = self._shelf.file(followed.id, wanted)
        return followed

    def unfollow(self, subscription_id: int) -> None:
        """Stop following; a feed nobody follows any more and the public
        pages do not show is deleted (nothing would read what it fetches)."""
        feed_id = self._shelf.unfollow(subscription_id)
        feed = self._lenta.get_feed(feed_id)
        if not feed.published and self._lenta.followers(feed_id) == 0:
            self._lenta.remove_feed(feed_id)

    def followed(self) -> list[Followed]:
        return self._shelf.followed()

    def navigation(self) -> Navigation:
        """What the navigation beside every reader page shows, read at once:
        the subscriptions briefly, the folders and the tags."""
        return Navigation(*self._shelf.navigation())

    def subscriptions_page(self, start: int, count: int) -> tuple[Navigation, list[Followed]]:
        """The navigation, and in full the ``count`` subscriptions from
        ``start`` in its order (by title), read at once."""
        briefly, folders, tags, shown = self._shelf.subscriptions_page(start, count)
        return Navigation(briefly, folders, tags), shown

    def subscription(self, subscription_id: int) -> Followed:
        return self._shelf.get(subscription_id)

    def rename(self, subscription_id: int, title: str | None) -> Followed:
        return self._shelf.rename(subscription_id, _name(title))

    def file(self, subscription_id: int, folder_ids: Iterable[int]) -> Followed:
        return self._shelf.file(subscription_id, folder_ids)

    # -- folders -----------------------------------------------------------------

    def folders(self) -> list[Folder]:
        return self._shelf.folders()

    def folder(self, folder_id: int) -> Folder:
        for folder in self._shelf.folders():
            if folder.id == folder_id:
                return folder
        raise NotFollowingError(folder_id)

    def add_folder(self, name: str, parent_id: int | None = None) -> Folder:
        return self._shelf.add_folder(self._folder_name(name), parent_id)

    def change_folder(self, folder_id: int, name: str, parent_id: int | None) -> Folder:
        return self._shelf.change_folder(folder_id, self._folder_name(name), parent_id)

    def delete_folder(self, folder_id: int) -> None:
        self.folder(folder_id)
        self._shelf.delete_folder(folder_id)

    @staticmethod
    def _folder_name(name: str) -> str:
        cleaned = _name(name, folder=True)
        if cleaned is None:
            raise InvalidInputError("A folder needs a name.")
        return cleaned

    # -- reading -----------------------------------------------------------------

    def items(
        self,
        view: View,
        *,
        subscription_id: int | None = None,
        folder_id: int | None = None,
        tag_id: int | None = None,
        after: Cursor | None = None,
        per_page: int = 50,
        oldest_first: bool = False,
    ) -> ReaderPage:
        """A page of a view (unread, all, starred), of everything the user
        follows, one subscription or one folder (with the folders inside it).

        Raises:
            InvalidInputError: an unknown view, or both a subscription and a folder.
            NotFollowingError: the subscription or folder is not the user's.
        """
        if view not in VIEWS:
            raise InvalidInputError("No view {view}.", view=view)
        _one_scope(subscription_id, folder_id)
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        # ``through`` is read before the items: what arrives after stays unread.
        found, through = self._shelf.page(
            view,
            subscription_id=subscription_id,
            folder_id=folder_id,
            tag_id=tag_id,
            after=after,
            limit=per_page + 1,
            oldest_first=oldest_first,
        )
        shown = tuple(found[:per_page])
        more = len(found) > per_page and shown
        next_cursor = Cursor(shown[-1].item.date, shown[-1].item.id) if more else None
        return ReaderPage(shown, next_cursor, through)

    def _scope(self, subscription_id: int | None, folder_id: int | None) -> list[int] | None:
        _one_scope(subscription_id, folder_id)
        if subscription_id is not None:
            return [self._shelf.get(subscription_id).feed_id]
        if folder_id is not None:
            return self._shelf.feeds_in(folder_id)
        return None

    def item(self, item_id: int) -> ReaderItem:
        return self._shelf.item(item_id)

    def sync_items(self, spec: SyncQuery) -> tuple[list[ReaderItem], int]:
        """The sync APIs' entry list (:class:`~lenta.storage._reader.SyncQuery`):
        items in the asked order, with an offset, and how many match in all."""
        return self._shelf.sync_items(spec)

    def neighbors(
        self,
        item: ReaderItem,
        view: View,
        *,
        subscription_id: int | None = None,
        folder_id: int | None = None,
        tag_id: int | None = None,
        oldest_first: bool = False,
    ) -> tuple[ReaderItem | None, ReaderItem | None]:
        """(previous, next) of ``item`` in a view's order, of everything, a
        subscription, a folder or a tag (as the list it was opened from)."""
        feed_ids = self._scope(subscription_id, folder_id)
        here = Cursor(item.item.date, item.item.id)
        after = self._shelf.items(view, feed_ids=feed_ids, tag_id=tag_id, after=here, limit=1, oldest_first=oldest_first)
        before = self._shelf.items(view, feed_ids=feed_ids, tag_id=tag_id, after=here, limit=1, oldest_first=not oldest_first)
        return (before[0] if before else None), (after[0] if after else None)

    def search(
        self,
        text: str,
        view: View = "all",
        *,
        subscription_id: int | None = None,
        folder_id: int | None = None,
        tag_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page: int = 0,
        per_page: int = 30,
    ) -> SearchPage:
        """The user's items matching ``text`` (:func:`lenta.search.parse_query`:
        words, "phrases", prefix*), best first, in a view (unread, all,
        starred), of a subscription or a folder, dated from ``since`` to
        before ``until``; ``page`` zero-based, at most :data:`MAX_SEARCH_PAGES`.
        The latest hits are ranked, up to
        :data:`lenta.storage._reader.SEARCH_WINDOW` (:mod:`lenta.search`);
        the page says when there were more.

        Raises:
            InvalidInputError: an empty or too long query, an unknown view, a page out of range.
            NotFollowingError: the subscription or folder is not the user's.
        """
        if view not in VIEWS:
            raise InvalidInputError("No view {view}.", view=view)
        if not 0 <= page < MAX_SEARCH_PAGES:
            raise InvalidInputError("Search results go to page {n} at most.", n=MAX_SEARCH_PAGES)
        query = parse_query(text)
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        found = self._shelf.search(
            query,
            view,
            feed_ids=self._scope(subscription_id, folder_id),
            tag_id=tag_id,
            since=since,
            until=until,
            limit=per_page + 1,
            offset=page * per_page,
        )
        more = len(found) > per_page and page + 1 < MAX_SEARCH_PAGES
        window = shelves.SEARCH_WINDOW
        latest_only = not more and page * per_page + len(found) >= window
        return SearchPage(tuple(found[:per_page]), page, bool(more), latest_only, window)

    def mark_read(self, item_ids: Iterable[int]) -> int:
        return self._shelf.mark(item_ids, True)

    def mark_unread(self, item_ids: Iterable[int]) -> int:
        return self._shelf.mark(item_ids, False)

    def star(self, item_id: int, starred: bool = True) -> None:
        self._shelf.star(item_id, starred, self._lenta.clock())

    def mark_all_read(
        self, *, through: int, subscription_id: int | None = None, folder_id: int | None = None, tag_id: int | None = None
    ) -> None:
        """Mark read every item up to id ``through`` (a :class:`ReaderPage`'s:
        the newest when the list was shown) of everything, a subscription, a
        folder or a tag; items that arrived since stay unread."""
        if tag_id is not None:
            self._shelf.mark_tag_read(tag_id, max(0, through))
            return
        if subscription_id is None:  # everything, or a folder's feeds found in the same transaction
            self._shelf.mark_all_read(None, max(0, through), folder_id=folder_id)
            return
        self._shelf.mark_all_read(self._scope(subscription_id, folder_id), max(0, through))

    def unread_total(self) -> int:
        return self._shelf.unread_total()

    # -- OPML --------------------------------------------------------------------

    def import_opml(self, data: bytes) -> ReaderImport:
        """Follow every feed of an OPML file, filed in its folders (nested
        outlines become nested folders, made where missing; a feed in several
        outlines goes in each). A feed lenta already has adds no fetch; a new
        one is added unpublished, due at once for the refresher. Entries that
        are not http(s) URLs are skipped and counted. Call it off the event
        loop (it runs lenta's feed adding on a loop of its own).

        Raises:
            OPMLError: not an OPML file.
            InvalidInputError: more than :data:`MAX_IMPORT` feeds.
        """
        from lenta.parse.opml import CATEGORY_SEPARATOR
        from lenta.parse.opml import parse_opml

        document = parse_opml(data)
        if len(document.outlines) > MAX_IMPORT:
            raise InvalidInputError("An OPML file can list at most {n} feeds.", n=MAX_IMPORT)
        known = {(f.parent_id, f.name.casefold()): f.id for f in self._shelf.folders()}
        folders_before = len(known)
        followed_by_feed = {f.feed_id: f for f in self._shelf.followed()}
        added = already = skipped = 0
        for outline in document.outlines:
            try:
                address, credentials = split_userinfo(normalize_feed_url(outline.url))
                if credentials:
                    raise InvalidInputError("A feed you follow cannot have a user name or password in its URL.")
            except InvalidInputError:
                skipped += 1
                continue
            try:
                feed = self._lenta.get_feed(address)
            except FeedNotFoundError:
                feed = asyncio.run(self._lenta.add_feed(address, discover=False, published=False))
            folder_ids = [self._folder_path(known, category.split(CATEGORY_SEPARATOR)) for category in outline.categories]
            subscription = followed_by_feed.get(feed.id)
            if subscription is None:
                subscription = self._shelf.follow(feed.id, self._lenta.clock(), title=_name(outline.title))
                followed_by_feed[feed.id] = subscription
                added += 1
            else:
                already += 1
            if folder_ids:
                wanted = set(subscription.folder_ids) | {folder_id for folder_id in folder_ids if folder_id is not None}
                followed_by_feed[feed.id] = self._shelf.file(subscription.id, wanted)
        return ReaderImport(added, already, skipped, len(known) - folders_before)

    def _folder_path(self, known: dict[tuple[int | None, str], int], parts: list[str]) -> int | None:
        """The folder at the end of a path of names, made where missing."""
        parent: int | None = None
        for part in parts:
            name = _name(part, folder=True)
            if name is None:
                continue
            key = (parent, name.casefold())
            if key not in known:
                known[key] = self._shelf.add_folder(name, parent).id
            parent = known[key]
        return parent

    def export_opml(self) -> bytes:
        """The user's subscriptions as OPML 2.0: folders as nested outlines,
        a feed in several folders in each."""
        from lenta.parse.opml import CATEGORY_SEPARATOR
        from lenta.parse.opml import OPMLFeed
        from lenta.parse.opml import render_opml

        folders = {f.id: f for f in self._shelf.folders()}

        def path(folder_id: int) -> str:
            names: list[str] = []
            cursor: int | None = folder_id
            while cursor is not None and cursor in folders and len(names) < 32:
                names.append(folders[cursor].name)
                cursor = folders[cursor].parent_id
            return CATEGORY_SEPARATOR.join(reversed(names))

        outlines = [
            OPMLFeed(
                url=f.url, title=f.title, site_url=safe_url(f.site_url) or None, categories=tuple(path(i) for i in f.folder_ids)
            )
            for f in self._shelf.followed()
            if safe_url(f.url)
        ]
        return render_opml(self.user.name, outlines, date_created=self._lenta.clock(), nested=True)

    # -- tags --------------------------------------------------------------------

    def tags(self) -> list[Tag]:
        return self._shelf.tags()

    def add_tag(self, name: str) -> Tag:
        return self._shelf.add_tag(self._tag_name(name))

    def rename_tag(self, tag_id: int, name: str) -> Tag:
        return self._shelf.rename_tag(tag_id, self._tag_name(name))

    def delete_tag(self, tag_id: int) -> None:
        self._shelf.delete_tag(tag_id)

    def tag_item(self, item_id: int, tag_id: int, tagged: bool = True) -> None:
        """Put one of the user's tags on one of their items (or take it off)."""
        self._shelf.tag_item(item_id, tag_id, tagged)

    def tags_of(self, item_id: int) -> list[Tag]:
        return self._shelf.tags_of(item_id)

    @staticmethod
    def _tag_name(name: str) -> str:
        cleaned = _name(name, folder=True)
        if cleaned is None:
            raise InvalidInputError("A tag needs a name.")
        return cleaned

    # -- rules -------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        return self._rules.all()

    def rule(self, rule_id: int) -> Rule:
        return self._rules.get(rule_id)

    def save_rule(
        self,
        *,
        name: str,
        field: str,
        match: str,
        pattern: str,
        action: str,
        subscription_id: int | None = None,
        folder_id: int | None = None,
        tag: str | None = None,
        webhook_url: str | None = None,
        enabled: bool = True,
        rule_id: int | None = None,
    ) -> Rule:
        """Add a rule (or change ``rule_id``): see :mod:`lenta.rules`.

        Raises:
            InvalidInputError: a bad part (a slow or malformed regular
                expression, no tag for a tag rule, no http(s) URL for notify).
            NotFollowingError: the subscription, folder or rule is not the user's.
        """
        rule_logic.check(field, match, pattern, action)
        cleaned = _name(name) or pattern[:60]
        if subscription_id is not None and folder_id is not None:
            raise InvalidInputError("A view is of one feed or of one folder, not both.")
        tag_name = _name(tag, folder=True) if action == "tag" else None
        if action == "tag" and tag_name is None:
            raise InvalidInputError("A tag rule needs the tag to put on.")
        url = secret = None
        if action == "notify":
            if not webhook_url:
                raise InvalidInputError("A notify rule needs the URL to call.")
            url, credentials = split_userinfo(normalize_feed_url(webhook_url))
            if credentials:
                raise InvalidInputError("A webhook URL cannot have a user name or password in it.")
            kept = self._rules.secret(rule_id) if rule_id is not None else None
            secret = kept or secrets.token_urlsafe(32)
        spec = RuleSpec(
            name=cleaned,
            field=field,
            match=match,
            pattern=pattern,
            action=action,
            subscription_id=subscription_id,
            folder_id=folder_id,
            tag_name=tag_name,
            webhook_url=url,
            webhook_secret=secret,
            enabled=enabled,
        )
        return self._rules.save(spec, self._lenta.clock(), rule_id)

    def delete_rule(self, rule_id: int) -> None:
        self._rules.delete(rule_id)

    def rule_secret(self, rule_id: int) -> str | None:
        """The key a notify rule signs its webhook calls with (HMAC-SHA256)."""
        return self._rules.secret(rule_id)

    def preview_rule(self, rule_id: int) -> list[Effect]:
        """What the rule would do to the items already there (the newest
        :data:`~lenta.storage._rules.MAX_ITEMS_PER_RUN` of its scope)."""
        return self._rules.run(self._rules.get(rule_id), self._lenta.clock(), apply=False)

    def run_rule(self, rule_id: int) -> list[Effect]:
        """Do what the rule does to the items already there (as previewed)."""
        return self._rules.run(self._rules.get(rule_id), self._lenta.clock(), apply=True)

    def rule_deliveries(self, rule_id: int) -> list[Any]:
        """A notify rule's latest webhook calls, newest first."""
        return self._rules.deliveries(rule_id)

    # -- for the sync APIs -----------------------------------------------------------

    def item_ids(self, *, read: bool | None = None, starred: bool | None = None) -> list[int]:
        """The ids of the user's items, read or unread, starred or not (None:
        either), ascending: the id lists sync APIs hand out (Fever)."""
        return self._shelf.item_ids(read=read, starred=starred)

    def arrived_through(self, moment: datetime) -> int:
        """The id of the newest item that had arrived before ``moment``, 0 if none."""
        return self._shelf.arrived_through(moment)

    def sync_changes(self, spec: SyncQuery, since: datetime | None = None) -> list[tuple[ReaderItem, datetime]]:
        """Items by id with when each last changed for the user, those changed
        since ``since`` only if it is given (Nextcloud News)."""
        return self._shelf.sync_changes(spec, since)

    def feed_counts(
        self, *, read: bool | None = None, starred: bool | None = None, after_id: int | None = None
    ) -> dict[int, int]:
        """feed id → how many of the user's items it has, by state (Tiny Tiny RSS)."""
        return self._shelf.feed_counts(read=read, starred=starred, after_id=after_id)
