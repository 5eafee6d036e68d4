"""The ``Lenta`` facade: the one object the CLI, the web UI, the APIs and the
scheduler call. Methods validate, delegate to the engines and translate;
they do not reach around each other. The engines (the database, the HTTP
client, the parse workers) are the facade's own, private attributes: the
edges reach them only through its methods (:meth:`Lenta.health` and
:meth:`Lenta.operator_figures` for operators, :meth:`Lenta.running` for a
long-lived refresher).

Network-touching methods (adding a feed with autodiscovery, refreshing,
reading a document by URL) are ``async``; the rest are plain methods that
run quick database work.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lenta._bounds import MAX_ID
from lenta.config import Settings
from lenta.credentials import MASK
from lenta.credentials import same_origin
from lenta.credentials import split_userinfo
from lenta.credentials import with_userinfo
from lenta.exceptions import FeedExistsError
from lenta.exceptions import FeedNotFoundError
from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import InvalidFeedURLError
from lenta.exceptions import InvalidInputError
from lenta.exceptions import LoginThrottledError
from lenta.exceptions import OPMLError
from lenta.exceptions import ParseError
from lenta.exceptions import UserNotFoundError
from lenta.fetch import FetchResult
from lenta.fetch.http import HTTPClient
from lenta.icons import ICONS_PER_ROUND
from lenta.icons import FeedIcon
from lenta.links import safe_url
from lenta.parse.model import ParsedFeed
from lenta.site_settings import SiteSettings
from lenta.storage import Storage
from lenta.storage import open_storage
from lenta.storage.migrate import SchemaChange
from lenta.storage.records import FeedChanges
from lenta.storage.records import FetchLogRecord
from lenta.storage.schema import FETCH_BUCKETS
from lenta.storage.schema import bucket_column
from lenta.types import FEED_STATES
from lenta.types import REFRESH_CHOICES
from lenta.types import Category
from lenta.types import Feed
from lenta.types import FetchFigures
from lenta.types import Health
from lenta.types import Item
from lenta.types import OperatorFigures
from lenta.types import Page
from lenta.types import RefreshSummary
from lenta.types import Session
from lenta.types import Subscription
from lenta.types import User
from lenta.update import FeedOutcome
from lenta.update import Pipeline
from lenta.update import RefreshProgress
from lenta.update import apply_retention
from lenta.update import utcnow
from lenta.update.icons import IconSummary
from lenta.update.icons import refresh_icons
from lenta.update.order import Shard
from lenta.update.order import plan_shards
from lenta.update.shards import run_shards
from lenta.update.store import error_changes
from lenta.update.workers import LazyProcessPool
from lenta.update.workers import cpu_count
from lenta.update.workers import wants_processes

if TYPE_CHECKING:  # WebSub loads when a hub is first dealt with, not for every command
    from lenta.api_keys import NewCredential
    from lenta.logins import Policy
    from lenta.notify import NotifySummary
    from lenta.reader import Reader
    from lenta.saved_views import PublishedView
    from lenta.saved_views import SavedViews
    from lenta.storage._credentials import Credential
    from lenta.totp import SecondFactor
    from lenta.totp import TotpSetup
    from lenta.user_settings import UserSettings
    from lenta.websub import Delivery
    from lenta.websub import MaintenanceSummary
    from lenta.websub import Verdict
    from lenta.websub import WebSub

MAX_TITLE_LENGTH = 255
SESSION_LIFETIME = timedelta(days=14)
MIN_SECRET_KEY_LENGTH = 32
# How long a refresher holds the due feeds it took before another may take
# them (a refresh of thousands of feeds takes minutes; see claim_due).
CLAIM_LEASE = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an OPML import did."""

    added: tuple[str, ...] = ()
    existing: tuple[str, ...] = ()
    invalid: tuple[tuple[str, str], ...] = ()  # (url, why)
    categories_created: tuple[str, ...] = ()
    added_ids: tuple[int, ...] = ()  # the feeds added, not fetched yet: the caller fetches them (or the refresher does)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """What a signed-in request needs first, read at once: the session (its
    user), the user's settings and the site's."""

    session: Session
    settings: UserSettings
    site: SiteSettings


class _Progress:
    """A round's progress callback, told how far the round is (see
    :meth:`Lenta.refresh`); called with each feed's outcome as it finishes."""

    def __init__(self, total: int, callback: Callable[[RefreshProgress], None] | None) -> None:
        self.total = total
        self.done = 0
        self.callback = callback
        if callback is not None:
            callback(RefreshProgress(total, 0))

    def __call__(self, outcome: FeedOutcome) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(RefreshProgress(self.total, self.done, outcome))


_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(?!\d)")


def normalize_feed_url(url: str) -> str:
    """Check a user-given feed URL; ``example.com/feed`` gets ``https://``
    and ``feed:https://…`` loses its ``feed:``.

    Raises:
        InvalidFeedURLError: not an http(s) URL with a host.
    """
    url = url.strip()
    if not url:
        raise InvalidFeedURLError("The URL is empty.")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise InvalidFeedURLError("The URL {url} contains spaces.", url=url)
    if url.lower().startswith("feed:"):
        url = url[5:].lstrip("/") if not url[5:].lower().startswith("http") else url[5:]
    scheme = _SCHEME.match(url)
    if scheme is None:
        if "@" in url.split("/", 1)[0]:
            raise InvalidFeedURLError("Only http and https URLs can be feeds, not {url}.", url=url)
        url = "https://" + url
    elif scheme.group(1).lower() not in {"http", "https"} or "://" not in url:
        raise InvalidFeedURLError("Only http and https URLs can be feeds, not {url}.", url=url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidFeedURLError("The URL {url} has no host.", url=url) from None
    if not parts.hostname:
        raise InvalidFeedURLError("The URL {url} has no host.", url=url)
    return url


def validate_refresh(refresh: int | None) -> int | None:
    if refresh is None or refresh == 0 or refresh in REFRESH_CHOICES:
        return refresh
    choices = ", ".join(str(c) for c in REFRESH_CHOICES)
    raise InvalidInputError(
        "Refresh must be 0 (never), empty (adaptive) or one of {choices} seconds, not {value}.",
        choices=choices,
        value=refresh,
    )


def _title(title: str | None) -> str | None:
    if title is None:
        return None
    title = " ".join(title.split())
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidInputError("A title can be at most {n} characters.", n=MAX_TITLE_LENGTH)
    return title or None


def _no_feed_on_page(url: str, status: int | None) -> FetchError:
    return FetchError("No feed found on the page {url}.", kind=FetchErrorKind.NOT_A_FEED, status=status, url=url)


def _feed_link(page: str, credentials: str | None, link: str) -> tuple[str, str | None]:
    """The feed a page links to, and the credentials to fetch it with: the
    link's own, else the page's if it is on the page's origin (never sent
    to another one)."""
    url, link_credentials = split_userinfo(link)
    if link_credentials or not same_origin(page, url):
        return url, link_credentials
    return url, credentials


class Lenta:
    """A feed aggregator over one database.

    Args:
        storage: the database (see :func:`lenta.storage.open_storage`).
        settings: deployment settings (see :mod:`lenta.config`).
        clock: returns aware UTC "now"; tests pass a fixed clock.
    """

    def __init__(self, storage: Storage, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._storage = storage
        self.settings = settings
        self.clock = clock
        # Inside running() (serve's refresher, worker): the client and parse
        # pool every call shares; otherwise each call makes its own.
        self._http: HTTPClient | None = None
        self._executor: Executor | None = None

    def close(self) -> None:
        self._storage.close()

    @asynccontextmanager
    async def _client(self, host_limits: Mapping[str, int] | None = None) -> AsyncIterator[HTTPClient]:
        if self._http is not None:
            yield self._http
            return
        async with HTTPClient(self.settings, host_limits=host_limits) as client:
            yield client

    # -- feeds -----------------------------------------------------------

    async def add_feed(
        self,
        url: str,
        *,
        title: str | None = None,
        category: str | None = None,
        category_ids: Iterable[int] = (),
        refresh: int | None = None,
        discover: bool = True,
        published: bool = True,
    ) -> Feed:
        """Add a feed; a web page URL is followed to its feed (autodiscovery).

        The URL is fetched once to find the feed (with ``discover`` False,
        not at all); the feed's items wait for the next refresh. If that
        fetch fails, or the page has no feed, the feed is still added with
        the error stored, so it shows in the feed list and is retried by
        refreshes. What a person adds goes through :meth:`add_and_fetch`,
        which refuses a URL that gives no feed and fetches the items at once.

        Args:
            url: the feed's URL, or a web page that links to one.
            title: a title that overrides the feed's own.
            category: a category title; created if missing.
            category_ids: existing category ids.
            refresh: seconds between checks (Drupal's choices), 0 never,
                None adaptive.
            published: shown on the public pages (a feed a reader follows
                for themselves is not, until the admin publishes it).

        Credentials in the URL (``https://user:secret@host/feed``) are
        stored apart from it and sent only to that origin (see
        :mod:`lenta.credentials`).

        Raises:
            InvalidFeedURLError: not an http(s) URL.
            FeedExistsError: the (discovered) URL is already a feed.
        """
        url, credentials = split_userinfo(normalize_feed_url(url))
        refresh = validate_refresh(refresh)
        title = _title(title)
        cat_ids = list(category_ids)
        if category:
            cat_ids.append(self.ensure_category(category).id)
        self._ensure_new(url)
        error: FetchError | None = None
        if discover:
            found, error = await self._discover(url, credentials)
            if found != url:
                url, credentials = _feed_link(url, credentials, found)
                self._ensure_new(url)
        feed = self._storage.feeds.add(
            url,
            now=self.clock(),
            custom_title=title,
            refresh=refresh,
            category_ids=cat_ids,
            credentials=credentials,
            published=published,
        )
        if error is not None:
            feed = self._storage.feeds.change(feed.id, error_changes(error, self.clock()))
        return feed

    def _ensure_new(self, url: str) -> None:
        try:
            self._storage.feeds.get_by_url(url)
        except FeedNotFoundError:
            return
        raise FeedExistsError(url)

    async def _discover(self, url: str, credentials: str | None = None) -> tuple[str, FetchError | None]:
        """The feed URL behind ``url``, and the error if the page could not be used."""
        try:
            async with self._client() as client:
                result = await client.fetch(with_userinfo(url, credentials))
        except FetchError as error:
            return url, error
        from lenta.parse.discover import discover_feeds  # lxml.html: loaded when a page is met
        from lenta.parse.discover import looks_like_html

        body = result.body or b""
        if not looks_like_html(body, result.content_type):
            return url, None
        found = discover_feeds(body, result.url, result.charset)
        if not found:
            return url, _no_feed_on_page(url, result.status)
        return found[0].url, None

    async def add_and_fetch(
        self,
        url: str,
        *,
        title: str | None = None,
        category: str | None = None,
        category_ids: Iterable[int] = (),
        refresh: int | None = None,
        force: bool = False,
        published: bool = True,
    ) -> Feed:
        """Add a feed as a person does (``lenta add``, the admin form): make
        sure the URL gives a feed, store it, and fetch it at once, so that it
        shows its title and items now rather than at the next refresh round.

        The URL is fetched first (a web page: the feed it links to, found
        by autodiscovery, is fetched) and what comes back is parsed. A URL
        that gives no feed (a dead host, an HTTP error, an HTML page without
        a feed link, a document that is not a feed) is refused with that
        error, and nothing is stored: no feed, no category. With ``force``
        it is kept all the same, and its error is shown in the feed list
        and retried like any feed's.

        The check stores nothing, so that a refusal leaves nothing behind;
        once the feed is stored, the body the check fetched goes through the
        refresh's pipeline, the one path that stores what a fetch brings
        (items, validators, schedule, the fetch log): the feed is fetched
        once. A feed kept with ``force`` is fetched again by :meth:`refresh`,
        which stores its error.

        Args:
            url, title, category, category_ids, refresh, published: as :meth:`add_feed`.
            force: keep the feed even if the URL gives no feed now.

        Returns:
            The feed after its first fetch: its title, item count and, if
            that fetch failed (with ``force``, or a feed that failed just
            after its check), its error.

        Raises:
            InvalidFeedURLError, InvalidInputError: bad input (before any fetch).
            FeedExistsError: the (discovered) URL is already a feed.
            FetchError: the URL (or the feed it links to) could not be
                fetched, or is a page without a feed link; not with ``force``.
            ParseError: what the URL gives is not a feed; not with ``force``.
        """
        url, credentials = split_userinfo(normalize_feed_url(url))
        validate_refresh(refresh)
        _title(title)
        if category is not None:
            _title(category)
        self._ensure_new(url)
        url, credentials, checked = await self._check_feed(url, credentials)
        if isinstance(checked, (FetchError, ParseError)) and not force:
            raise checked
        feed = await self.add_feed(
            with_userinfo(url, credentials),
            title=title,
            category=category,
            category_ids=category_ids,
            refresh=refresh,
            discover=False,
            published=published,
        )
        if isinstance(checked, FetchResult):
            await self._store_fetched(feed, checked)
        else:
            await self.refresh([feed.id])
        return self._storage.feeds.get(feed.id)

    async def _store_fetched(self, feed: Feed, result: FetchResult) -> None:
        async with self._client() as client:
            site, pushed = self._round_context()
            pipeline = Pipeline(
                self._storage,
                client,
                site,
                concurrency=self.settings.concurrency,
                clock=self.clock,
                pushed=pushed,
                max_bytes=self.settings.fetch_max_bytes,
            )
            await pipeline.store_fetched(feed, result)

    async def _check_feed(
        self, url: str, credentials: str | None
    ) -> tuple[str, str | None, FetchResult | FetchError | ParseError]:
        """Whether ``url`` gives a feed: the feed's URL and credentials (a
        page's feed link followed), and the feed's fetch (what it brought, to
        be stored once the feed is) or why it gives none. Stores nothing;
        raises FeedExistsError for a found feed already there."""
        from lenta.parse.discover import discover_feeds  # lxml.html: loaded when a page is met
        from lenta.parse.discover import looks_like_html
        from lenta.parse.formats import parse_feed

        try:
            async with self._client() as client:
                result = await client.fetch(with_userinfo(url, credentials))
                body = result.body or b""
                if looks_like_html(body, result.content_type):
                    found = discover_feeds(body, result.url, result.charset)
                    if not found:
                        return url, credentials, _no_feed_on_page(url, result.status)
                    url, credentials = _feed_link(url, credentials, found[0].url)
                    self._ensure_new(url)
                    result = await client.fetch(with_userinfo(url, credentials))
            # Whether it is a feed, not its items (the refresh reads those); off
            # the event loop all the same (the web server's, for the admin form).
            await asyncio.to_thread(
                parse_feed,
                result.body or b"",
                url=result.url,
                content_type=result.content_type,
                charset=result.charset,
                max_items=1,
            )
        except (FetchError, ParseError) as error:
            return url, credentials, error
        return url, credentials, result

    def get_feed(self, feed: int | str) -> Feed:
        """A feed by id or URL. Raises FeedNotFoundError."""
        if isinstance(feed, int) or (feed.isascii() and feed.isdigit()):
            if len(str(feed).lstrip("0")) > len(str(MAX_ID)) or not 0 <= int(feed) <= MAX_ID:
                raise FeedNotFoundError(feed)  # past the id column's range: no such feed, not an overflow
            return self._storage.feeds.get(int(feed))
        return self._storage.feeds.get_by_url(split_userinfo(feed)[0])

    def list_feeds(self, *, category_id: int | None = None) -> list[Feed]:
        return self._storage.feeds.list(category_id=category_id)

    def change_feed(
        self,
        feed_id: int,
        *,
        url: str,
        title: str | None,
        refresh: int | None,
        category_ids: Iterable[int],
    ) -> Feed:
        """Edit a feed (the admin form). Raises FeedNotFoundError, FeedExistsError.

        ``url`` as the form shows it: ``https://***@host/feed`` keeps the
        stored credentials, other userinfo replaces them, none removes them.
        """
        url, userinfo = split_userinfo(normalize_feed_url(url))
        current = self._storage.feeds.get(feed_id)
        credentials = current.credentials if userinfo == MASK else userinfo
        changes = FeedChanges(url=url, custom_title=_title(title), refresh=validate_refresh(refresh), credentials=credentials)
        if url != current.url:
            # A new URL starts over: no validators, checked at once.
            changes |= FeedChanges(etag=None, last_modified=None, next_check_at=self.clock(), gone=False, error_count=0)
        if refresh != current.refresh and url == current.url:
            changes |= FeedChanges(next_check_at=self.clock())
        for cid in category_ids:
            self._storage.categories.get(cid)
        return self._storage.feeds.change(feed_id, changes, category_ids=list(category_ids))

    def publish_feed(self, feed_id: int, published: bool = True) -> Feed:
        """Show a feed on the public pages (its sources, river, RSS and OPML),
        or stop showing it. Raises FeedNotFoundError."""
        return self._storage.feeds.publish(feed_id, published)

    def reader(self, user: User) -> Reader:
        """``user``'s personal reader: their subscriptions, folders, read and
        starred items (:class:`lenta.reader.Reader`)."""
        from lenta.reader import Reader

        return Reader(self, user, self._storage.reader.of(user.id, self.clock), self._storage.rules_of(user.id))

    def rebuild_search_index(self) -> int:
        """Index every item of every followed feed again (``lenta
        search-index``); returns how many were indexed. The index is kept
        up to date as items are written: this is for an index from
        elsewhere (a restored backup, a changed stemmer)."""
        return self._storage.reader.rebuild_search()

    async def discover(self, url: str) -> list[tuple[str, str | None, str]]:
        """The feeds at ``url``: (URL, title, format: rss, atom, json or
        rdf) of the feed itself, or of those a page links to. Raises
        FetchError, InvalidFeedURLError."""
        from lenta.parse.discover import discover_feeds
        from lenta.parse.discover import looks_like_html
        from lenta.parse.formats import parse_feed

        address, credentials = split_userinfo(normalize_feed_url(url))
        async with self._client() as client:
            result = await client.fetch(with_userinfo(address, credentials))
        body = result.body or b""
        if looks_like_html(body, result.content_type):
            return [
                (found.url, found.title, _format_of(found.mime_type))
                for found in discover_feeds(body, result.url, result.charset)
            ]
        try:
            parsed = await asyncio.to_thread(
                parse_feed, body, url=result.url, content_type=result.content_type, charset=result.charset, max_items=1
            )
        except ParseError:
            return []
        return [(result.url, parsed.title, _format_of(parsed.format))]

    # -- app passwords and API keys (issue 12) -----------------------------

    def add_credential(self, user: User, name: str, kind: str = "app_password") -> NewCredential:
        """Make an app password or an API key for ``user``; its secret is in
        the result and nowhere else. Raises InvalidInputError."""
        from lenta import api_keys
        from lenta.storage._credentials import CredentialShelf

        if kind not in api_keys.KINDS:
            raise InvalidInputError("No kind of credential {kind}.", kind=kind[:20])
        cleaned = " ".join(name.split())[: api_keys.MAX_NAME_CHARS]
        if not cleaned:
            raise InvalidInputError("Give it a name (the app or the device it is for).")
        secret = api_keys.new_secret()
        fever = api_keys.fever_key(user.name, secret) if kind == "app_password" else None
        made = CredentialShelf(self._storage.db, user.id).add(cleaned, kind, api_keys.secret_hash(secret), self.clock(), fever)
        return api_keys.NewCredential(made.id, made.name, kind, secret)

    def credentials(self, user: User) -> list[Credential]:
        """``user``'s app passwords and API keys (never their secrets)."""
        from lenta.storage._credentials import CredentialShelf

        return CredentialShelf(self._storage.db, user.id).all()

    def revoke_credential(self, user: User, credential_id: int) -> None:
        """Revoke one of ``user``'s app passwords or API keys. Raises NotFollowingError."""
        from lenta.storage._credentials import CredentialShelf

        CredentialShelf(self._storage.db, user.id).revoke(credential_id)

    def user_by_secret(self, secret: str, kinds: tuple[str, ...] = ("app_password", "api_key")) -> User | None:
        """The user an app password or API key belongs to, or None."""
        from lenta import api_keys
        from lenta.storage._credentials import owner_of

        if not secret or len(secret) > api_keys.MAX_SECRET_CHARS:
            return None
        user_id = owner_of(self._storage.db, api_keys.secret_hash(secret), kinds, self.clock())
        return self._storage.users.get_by_id(user_id) if user_id is not None else None

    def user_by_fever_key(self, key: str) -> User | None:
        """The user a Fever ``api_key`` (md5 of "name:app password") belongs to, or None."""
        from lenta.storage._credentials import owner_by_fever_key

        if len(key) != 32:
            return None
        user_id = owner_by_fever_key(self._storage.db, key.lower(), self.clock())
        return self._storage.users.get_by_id(user_id) if user_id is not None else None

    def secret_tag(self, user: User, secret: str) -> str:
        """What a token an app got with ``secret`` carries to stay tied to it:
        its app password's hash, or a digest of the account's password hash
        (a new password ends it). Call it after the secret was checked."""
        from lenta import api_keys

        hashed = api_keys.secret_hash(secret)
        if self.user_by_secret(secret, ("app_password",)) == user:
            return "c:" + hashed
        _, password_hash = self._storage.users.get_with_hash(user.name)
        return "p:" + hashlib.sha256(password_hash.encode()).hexdigest()[:32]

    def secret_tag_valid(self, user: User, tag: str) -> bool:
        """Whether the secret a token was made with still opens the account."""
        from lenta.storage._credentials import owner_of

        if tag.startswith("c:"):
            return owner_of(self._storage.db, tag[2:], ("app_password",), self.clock()) == user.id
        if tag.startswith("p:") and not self.second_factor(user).enabled:
            _, password_hash = self._storage.users.get_with_hash(user.name)
            return hmac.compare_digest(tag[2:], hashlib.sha256(password_hash.encode()).hexdigest()[:32])
        return False

    def api_sign_in(self, name: str, password: str, *, address: str | None) -> User | None:
        """An app's sign-in with a name and a password (HTTP Basic, the APIs'
        logins): an app password of that user, or the account's password when
        no second factor guards it. Throttled as the web's sign-in is.
        Raises LoginThrottledError."""
        user = self.user_by_secret(password, ("app_password",))
        if user is not None and user.name == name:
            return user
        user = self.sign_in(name, password, address=address)  # wrong passwords counted and throttled
        if user is not None and self.second_factor(user).enabled:
            return None  # only app passwords open an account with a second factor: an app cannot ask for the code
        return user

    def followers(self, feed_id: int) -> int:
        """How many readers follow a feed."""
        return self._storage.reader.followers(feed_id)

    def remove_feed(self, feed: int | str) -> Feed:
        """Delete a feed and its items; a WebSub subscription outlives it
        until its hub confirms the unsubscription (see :meth:`websub_maintain`).
        Raises FeedNotFoundError."""
        found = self.get_feed(feed)
        self._websub().detach_feed(found.id)
        self._storage.feeds.delete(found.id)
        return found

    def fetch_history(self, feed_id: int) -> list[FetchLogRecord]:
        """The feed's recent fetches, newest first (its health history)."""
        return self._storage.feeds.fetch_history(feed_id)

    def remove_items(self, feed_id: int) -> int:
        """Delete a feed's items and forget its validators so the next
        refresh fetches everything again (Drupal's "remove items")."""
        self._storage.feeds.get(feed_id)
        removed = self._storage.items.delete_for_feed(feed_id)
        self._storage.feeds.change(
            feed_id, FeedChanges(etag=None, last_modified=None, next_check_at=self.clock(), modified_at=None)
        )
        return removed

    # The admin table's bulk actions: many feeds in a few statements, ids
    # that are no longer feeds skipped (another admin may have deleted them).

    def remove_feeds(self, feed_ids: Iterable[int]) -> int:
        """Delete feeds and their items (:meth:`remove_feed` for many).
        Returns how many were deleted."""
        ids = list(dict.fromkeys(feed_ids))
        websub = self._websub()
        for feed_id in ids:
            websub.detach_feed(feed_id)
        return self._storage.feeds.delete_many(ids)

    def refresh_soon(self, feed_ids: Iterable[int]) -> int:
        """Make feeds due now, so that the next refresh round fetches them
        (the web server wakes its refresher for it: at once). A feed that
        was gone (410) is polled again. Returns how many feeds there were.

        For many feeds, where :meth:`refresh` would hold the caller until
        every one is fetched."""
        return self._storage.feeds.change_each(feed_ids, FeedChanges(next_check_at=self.clock(), gone=False))

    def categorize_feeds(self, feed_ids: Iterable[int], category_id: int, *, only: bool = False) -> int:
        """Put feeds in a category: added to their others, or with ``only``
        moved to it (their other categories dropped). Returns how many feeds
        there were. Raises CategoryNotFoundError."""
        self._storage.categories.get(category_id)
        return self._storage.feeds.add_to_category(feed_ids, category_id, only=only)

    async def refresh(
        self,
        feeds: Iterable[int | str] = (),
        *,
        all_feeds: bool = False,
        progress: Callable[[RefreshProgress], None] | None = None,
    ) -> RefreshSummary:
        """Fetch feeds and store what is new: the one refresh, whoever calls it.

        With ``feeds`` given (ids or URLs), those feeds; with ``all_feeds``,
        every feed (gone ones included); otherwise the feeds that are due,
        claimed so that no other refresher takes them too. A failing feed is
        stored as a per-feed error and counted in the summary, never raised.

        ``progress`` hears of the round's start and of every feed as it
        finishes (:class:`~lenta.update.RefreshProgress`), on this event
        loop's thread, however the round runs. That depends on where it is
        called; the result does not:

        - inside :meth:`running` (``lenta serve``'s refresher, ``lenta
          worker``): on this event loop, with the long-lived HTTP client,
          the bodies of a big round parsed in the long-lived pool of worker
          processes;
        - in a process that runs no other thread (``lenta refresh``), a big
          round: split among ``LENTA_REFRESH_PROCESSES`` processes (one per
          core by default), this one and forked children, each fetching,
          parsing and storing its part, the hosts' limits shared among them
          (:func:`lenta.update.order.plan_shards`);
        - otherwise (an admin's "update items" on the web server's loop, an
          embedding application): on this event loop with a client of its
          own, a big round's bodies parsed in worker processes started for it.

        Raises:
            FeedNotFoundError: one of ``feeds`` is not a feed.
            StorageError: the database failed (not one feed's data: that is
                the feed's error).
        """
        targets = self._refresh_targets(feeds, all_feeds)
        tell = _Progress(len(targets), progress)
        shards = self._shards(targets)
        if len(shards) < 2:
            return await self._refresh(targets, tell)
        context = self._round_context()  # read once, before the forks, for every shard

        async def run_shard(shard: Shard, report: Callable[[FeedOutcome], None]) -> RefreshSummary:
            # A thread parses for each shard: the shards themselves are the other cores.
            return await self._refresh(
                shard.feeds, report, parse_processes=False, retention=False, context=context, host_limits=shard.host_limits
            )

        summary = await run_shards(shards, run_shard, after_fork=self._storage.db.after_fork, on_outcome=tell)
        await asyncio.to_thread(apply_retention, self._storage, context[0], self.clock())
        return summary

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Hold what a long-lived refresher reuses round after round, for
        every call inside: one HTTP client (its kept-alive connections, its
        DNS answers, the per-host limits across rounds) and one pool of
        parse workers, started by the first round big enough to need it.
        ``lenta serve``'s refresher and ``lenta worker`` run inside it::

            async with lenta.running():
                while ...:
                    await lenta.refresh()

        A refresh inside never forks (the process runs threads).
        """
        if self._http is not None:
            raise RuntimeError("Lenta.running() is already entered")
        pool = LazyProcessPool()
        async with HTTPClient(self.settings) as client:
            self._http, self._executor = client, pool
            try:
                yield
            finally:
                self._http = self._executor = None
                await asyncio.to_thread(pool.shutdown)

    def _refresh_targets(self, feeds: Iterable[int | str], all_feeds: bool) -> list[Feed]:
        if feeds:
            return [self.get_feed(f) for f in feeds]
        if all_feeds:
            return self._storage.feeds.every()
        return self._storage.feeds.claim_due(self.clock(), limit=100_000, lease=CLAIM_LEASE)

    def _shards(self, targets: Sequence[Feed]) -> list[Shard]:
        """The round's shards, one per process, when it is to run in several."""
        processes = self.settings.refresh_processes or cpu_count()
        # Forking a process that runs other threads can leave a child stuck on
        # a lock one of them held (an embedding application, a test server,
        # a long-lived refresher's pool): then this process does the round.
        if processes < 2 or not wants_processes(len(targets)) or self._http is not None or threading.active_count() > 1:
            return []
        return plan_shards(targets, processes, per_host=self.settings.per_host, interval=self.settings.host_interval)

    async def _refresh(
        self,
        targets: Sequence[Feed],
        progress: Callable[[FeedOutcome], None] | None,
        *,
        parse_processes: bool = True,
        retention: bool = True,
        context: tuple[SiteSettings, frozenset[int]] | None = None,
        host_limits: Mapping[str, int] | None = None,
    ) -> RefreshSummary:
        count = len(targets) if parse_processes else 0
        site, pushed = context or self._round_context()
        async with self._client(host_limits) as client, self._parse_pool(count) as executor:
            pipeline = Pipeline(
                self._storage,
                client,
                site,
                concurrency=self.settings.concurrency,
                clock=self.clock,
                executor=executor,
                pushed=pushed,
                max_bytes=self.settings.fetch_max_bytes,
            )
            summary = await pipeline.refresh(targets, progress, retention=retention)
        if executor is not None and executor is self._executor and pipeline.executor is None:
            # A worker died and broke the long-lived pool (the pipeline went
            # on with threads): the next round gets a new one.
            self._executor = LazyProcessPool()
            await asyncio.to_thread(executor.shutdown)
        return summary

    def _round_context(self) -> tuple[SiteSettings, frozenset[int]]:
        """What every feed of a round needs: the site settings, and which
        feeds a WebSub hub pushes (polled more slowly)."""
        return self.site_settings(), frozenset(self._storage.websub.active_feed_ids(self.clock()))

    @asynccontextmanager
    async def _parse_pool(self, feed_count: int) -> AsyncIterator[Executor | None]:
        """Worker processes to parse a round's bodies: the long-lived pool of
        :meth:`running`, else a pool for this round; None (a thread of this
        process) for a round too small to be worth processes."""
        if not wants_processes(feed_count):
            yield None
            return
        if self._executor is not None:
            yield self._executor
            return
        pool = LazyProcessPool()
        try:
            yield pool
        finally:
            await asyncio.to_thread(pool.shutdown)

    # -- operators -------------------------------------------------------

    def health(self) -> Health:
        """What ``/healthz`` reports: the database's kind, feeds by state,
        how many are due and how far behind the most overdue one is.

        Raises:
            StorageError: the database cannot be read.
        """
        summary = self._storage.feeds.health_summary(self.clock())
        return Health(
            database=self._storage.dialect,
            feeds_by_state={state: int(summary.get(state, 0)) for state in FEED_STATES},
            feeds_due=int(summary.get("due", 0)),
            queue_lag_seconds=float(summary.get("lag", 0.0)),
        )

    def operator_figures(self) -> OperatorFigures:
        """What ``/metrics`` reports, read from the database now: the fetch
        counters every refresher process adds to (so any process reports
        them all), items stored, and :meth:`health`.

        Raises:
            StorageError: the database cannot be read.
        """
        fetches = tuple(
            FetchFigures(
                outcome=outcome,
                count=int(row["count"]),
                seconds=float(row["seconds"]),
                buckets=tuple((bound, int(row[bucket_column(bound)])) for bound in FETCH_BUCKETS),
            )
            for outcome, row in sorted(self._storage.feeds.fetch_stats().items())
        )
        return OperatorFigures(health=self.health(), items_stored=self._storage.items.count(), fetches=fetches)

    # -- items -----------------------------------------------------------

    def items_page(
        self, page: int = 0, per_page: int = 20, *, feed_id: int | None = None, category_id: int | None = None
    ) -> Page[Item]:
        """Items newest first (date, then id), of the site, one feed or one
        category; ``page`` is zero-based (Drupal's ``?page=N``). Any page
        costs about what the first does: it is found from item counts kept
        as items are written (:mod:`lenta.storage._counts`).

        Raises:
            InvalidInputError: a negative page.
        """
        if page < 0:
            raise InvalidInputError("The page number cannot be negative.")
        return self._storage.items.page(page, per_page, feed_id=feed_id, category_id=category_id)

    def latest_items_per_feed(self, feed_ids: Iterable[int], limit: int) -> dict[int, list[Item]]:
        """The ``limit`` newest items of each of ``feed_ids`` (only those
        feeds' newest items are read)."""
        return self._storage.items.latest_per_feed(feed_ids, limit)

    def latest_items(self, limit: int, *, category_id: int | None = None) -> list[Item]:
        """The site's (or a category's) ``limit`` newest items."""
        return self._storage.items.latest(limit, category_id=category_id)

    def latest_items_per_category(self, category_ids: Iterable[int], limit: int) -> dict[int, list[Item]]:
        """The ``limit`` newest items of each of ``category_ids``."""
        return self._storage.items.latest_per_category(category_ids, limit)

    def sources_page(self, page: int = 0, per_page: int = 20) -> Page[Feed]:
        """Feeds by title, zero-based ``page`` of them (``/aggregator/sources``).

        Raises:
            InvalidInputError: a negative page.
        """
        if page < 0:
            raise InvalidInputError("The page number cannot be negative.")
        return self._storage.feeds.page(page, per_page)

    def categories_page(self, page: int = 0, per_page: int = 20) -> Page[Category]:
        """Categories by title, zero-based ``page`` of them (``/aggregator/categories``).

        Raises:
            InvalidInputError: a negative page.
        """
        if page < 0:
            raise InvalidInputError("The page number cannot be negative.")
        return self._storage.categories.page(page, per_page)

    # -- categories ------------------------------------------------------

    def list_categories(self) -> list[Category]:
        return self._storage.categories.list()

    def get_category(self, category_id: int) -> Category:
        return self._storage.categories.get(category_id)

    def add_category(self, title: str, description: str | None = None) -> Category:
        clean = _title(title)
        if not clean:
            raise InvalidInputError("A category needs a title.")
        return self._storage.categories.add(clean, (description or "").strip() or None)

    def ensure_category(self, title: str) -> Category:
        clean = _title(title)
        if not clean:
            raise InvalidInputError("A category needs a title.")
        return self._storage.categories.find(clean) or self._storage.categories.add(clean)

    def change_category(self, category_id: int, title: str, description: str | None = None) -> Category:
        clean = _title(title)
        if not clean:
            raise InvalidInputError("A category needs a title.")
        return self._storage.categories.change(category_id, title=clean, description=(description or "").strip() or None)

    def delete_category(self, category_id: int) -> None:
        self._storage.categories.delete(category_id)

    # -- OPML ------------------------------------------------------------

    def import_opml(self, data: bytes) -> ImportResult:
        """Add every feed of an OPML document; folders become categories.

        Feeds already present are left as they are; URLs that are not
        http(s) are reported, not fatal. Raises OPMLError for a document
        that is not OPML, or lists no feed.

        Nothing is fetched here (a list of 500 feeds is added in one short
        transaction): the new feeds are due at once, so the refresher
        (``lenta serve``'s, ``lenta worker``) takes them in its next round,
        and ``lenta import`` fetches them itself (:attr:`ImportResult.added_ids`,
        through :meth:`refresh`). A feed that fails is kept with its error
        and retried like any feed: an import is often of feeds that were
        down that day.
        """
        from lenta.parse.opml import parse_opml  # the OPML and feed-format readers load on first use

        document = parse_opml(data)
        if not document.outlines:  # "imported 0 feeds" would read as success
            raise OPMLError("The OPML file lists no feeds.")
        invalid: list[tuple[str, str]] = []
        categories = {c.title.casefold(): c.id for c in self.list_categories()}
        created: list[str] = []
        entries: list[tuple[str, str | None, list[int], str | None]] = []
        for outline in document.outlines:
            try:
                url, credentials = split_userinfo(normalize_feed_url(outline.url))
            except InvalidFeedURLError as error:
                invalid.append((outline.url, str(error)))
                continue
            category_ids = []
            for name in outline.categories:
                clean = _title(name) if name and len(name) <= MAX_TITLE_LENGTH else None
                if not clean:
                    continue
                if clean.casefold() not in categories:
                    categories[clean.casefold()] = self._storage.categories.add(clean).id
                    created.append(clean)
                category_ids.append(categories[clean.casefold()])
            title = _title(outline.title) if outline.title and len(outline.title) <= MAX_TITLE_LENGTH else None
            entries.append((url, title, category_ids, credentials))
        added, existing = self._storage.feeds.add_many(entries, now=self.clock())
        new_urls = set(added)
        added_ids = tuple(feed.id for feed in self._storage.feeds.every() if feed.url in new_urls)
        return ImportResult(tuple(added), tuple(existing), tuple(invalid), tuple(created), added_ids)

    def export_opml(self, *, published_only: bool = True) -> bytes:
        """OPML 2.0 of every published feed (with ``published_only`` False,
        of every feed: the admin's backup), categories as folder outlines."""
        from lenta.parse.opml import OPMLFeed
        from lenta.parse.opml import render_opml

        names = {c.id: c.title for c in self.list_categories()}
        outlines = [
            OPMLFeed(
                url=safe_url(feed.url),
                title=feed.title,
                site_url=safe_url(feed.site_url) or None,
                categories=tuple(names[cid] for cid in feed.category_ids if cid in names),
            )
            for feed in self.list_feeds()
            # A feed is fetched over http(s) only: anything else is no feed to list.
            # A feed only readers follow is theirs, not the site's.
            if safe_url(feed.url) and (feed.published or not published_only)
        ]
        return render_opml(self.site_settings().site_name, outlines, date_created=self.clock())

    # -- documents -------------------------------------------------------

    async def fetch_document(self, url: str) -> bytes:
        """Download a document (e.g. an OPML file) through the outbound
        client. Raises InvalidFeedURLError, FetchError."""
        async with self._client() as client:
            result = await client.fetch(normalize_feed_url(url), accept="text/x-opml, application/xml, text/xml, */*")
        return result.body or b""

    # -- icons -----------------------------------------------------------

    async def refresh_icons(self, *, limit: int = ICONS_PER_ROUND) -> IconSummary:
        """Fetch the feed icons that are due (the feeds whose last refresh
        succeeded and that have no icon yet, or one a week old; a day after
        a try that found none), at most ``limit``, and store them. The
        refresher calls this after each round (see :mod:`lenta.update.icons`
        for where an icon comes from and its bounds). A feed without an
        icon is no error: it shows none.

        Raises:
            StorageError: the database failed.
        """
        return await refresh_icons(self._storage, self.settings, self.clock(), limit=limit)

    def feed_icon(self, feed_id: int, *, published_only: bool = False) -> FeedIcon | None:
        """The feed's icon (bytes, media type, digest), or None if it has none
        yet; with ``published_only`` (the public site's), None too for a feed
        only readers follow."""
        return self._storage.icons.get(feed_id, published_only=published_only)

    def icon_versions(self, feed_ids: Iterable[int]) -> dict[int, str]:
        """Of ``feed_ids``, the feeds that have an icon, each with its
        digest: pages link ``/aggregator/sources/{id}/icon?v={digest}``."""
        return self._storage.icons.versions(feed_ids)

    # -- WebSub ----------------------------------------------------------

    def _websub(self) -> WebSub:
        from lenta.websub import WebSub

        return WebSub(self._storage, clock=self.clock)

    async def deliver_notifications(self) -> NotifySummary:
        """Make the readers' webhook calls that are due (their "notify"
        rules; :mod:`lenta.notify`). The scheduler calls this every tick."""
        from lenta.notify import deliver_due

        async with self._client() as client:
            return await deliver_due(self._storage, client, self.clock())

    async def websub_maintain(self) -> MaintenanceSummary:
        """Subscribe feeds that advertise a hub, renew leases before they run
        out, retry failures (backoff up to a day), send unsubscriptions of
        deleted feeds. The scheduler calls this every tick.

        Does nothing while ``settings.base_url`` is empty: a hub could not
        reach the callback. Failures are stored on the subscription (see
        :meth:`websub_subscription`), not raised.
        """
        if not self.settings.base_url:
            from lenta.websub import MaintenanceSummary

            return MaintenanceSummary()
        async with self._client() as client:
            return await self._websub().maintain(client, self.settings.base_url)

    def websub_verify(
        self,
        token: str,
        *,
        mode: str | None,
        topic: str | None,
        challenge: str | None,
        lease_seconds: str | None,
        reason: str | None = None,
    ) -> Verdict:
        """A hub's intent verification on the callback ``/websub/{token}``.

        Returns the verdict: ``SUBSCRIBED``/``UNSUBSCRIBED`` (answer 200 with
        the challenge), ``DENIED`` (noted on the subscription; answer 200) or
        ``REFUSE`` (unknown token, other topic, a mode we did not ask for:
        answer 404).
        """
        return self._websub().verify(
            token, mode=mode, topic=topic, challenge=challenge, lease_seconds=lease_seconds, reason=reason
        )

    def websub_callback_exists(self, token: str) -> bool:
        """Whether ``/websub/{token}`` is one of lenta's callbacks (one being
        unsubscribed included): the web layer asks before it reads a push."""
        return self._storage.websub.by_token(token) is not None

    async def websub_deliver(self, token: str, body: bytes, *, signature: str | None, content_type: str | None) -> Delivery:
        """A body a hub pushed to ``/websub/{token}``: stored like a fetched
        one if ``signature`` (X-Hub-Signature) is right, else dropped.

        Returns what was done: ``INGEST`` (stored), ``DROP`` (unsigned or
        wrongly signed; acknowledge anyway), ``GONE`` (the feed is being
        unsubscribed: 410), ``UNKNOWN`` (no such callback: 404). The caller
        caps the body (``settings.fetch_max_bytes``).
        """

        async def ingest(feed: Feed, data: bytes, media_type: str | None, charset: str | None) -> FeedOutcome:
            async with self._client() as client:
                pipeline = Pipeline(
                    self._storage,
                    client,
                    self.site_settings(),
                    concurrency=self.settings.concurrency,
                    clock=self.clock,
                    max_bytes=self.settings.fetch_max_bytes,
                )
                return await pipeline.ingest_push(feed, data, media_type, charset)

        return await self._websub().deliver(token, body, signature=signature, content_type=content_type, ingest=ingest)

    def websub_subscription(self, feed_id: int) -> Subscription | None:
        """The feed's WebSub subscription (state, lease, last error, next
        retry), or None if it has none."""
        return self._storage.websub.for_feed(feed_id)

    # -- users -----------------------------------------------------------

    def add_user(self, name: str, password: str, *, is_admin: bool = False) -> User:
        """Create a user. Raises InvalidInputError, UserExistsError."""
        name = name.strip()
        if not name or len(name) > 60 or any(ch.isspace() or not ch.isprintable() for ch in name):
            raise InvalidInputError("A user name is 1 to 60 characters, without spaces.")
        return self._storage.users.add(name, self._new_password_hash(password), is_admin=is_admin, now=self.clock())

    def _new_password_hash(self, password: str) -> str:
        from lenta import auth  # argon2 loads when a password is met

        if len(password) < auth.MIN_PASSWORD_LENGTH:
            raise InvalidInputError("A password needs at least {n} characters.", n=auth.MIN_PASSWORD_LENGTH)
        if len(password) > auth.MAX_PASSWORD_LENGTH:
            raise InvalidInputError("A password can be at most {n} characters.", n=auth.MAX_PASSWORD_LENGTH)
        return auth.hash_password(password)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password matches, else None (same cost either
        way). Not throttled: the edges sign people in with :meth:`sign_in`."""
        from lenta import auth

        try:
            user, password_hash = self._storage.users.get_with_hash(name)
        except UserNotFoundError:
            auth.verify_password(auth.dummy_hash(), password)
            return None
        if not auth.verify_password(password_hash, password):
            return None
        if auth.needs_rehash(password_hash):
            self._storage.users.set_password_hash(name, auth.hash_password(password))
        return user

    def sign_in(self, name: str, password: str, *, address: str | None) -> User | None:
        """Check a sign-in from ``address`` (the client's IP), throttled per
        account and per address (see :mod:`lenta.logins`).

        Returns the user, or None for a wrong name or password (the failure
        is counted). Raises LoginThrottledError, without checking the
        password, while the account or the address is locked.
        """
        from lenta import logins

        policies = _throttle_policies(name, address)
        keys = list(policies)
        wait = self.sign_in_wait(name, address=address)
        if wait is not None:
            raise LoginThrottledError(wait)
        user = self.authenticate(name, password)
        now = self.clock()
        if user is None:
            # Read again: other attempts may have failed while this one hashed.
            states = self._storage.login_failures.get(keys)
            self._storage.login_failures.put(
                {key: logins.after_failure(states.get(key), now, policy) for key, policy in policies.items()},
                forget_before=now - logins.MEMORY,
            )
            return None
        self._storage.login_failures.clear(keys[0])
        return user

    def sign_in_wait(self, name: str, *, address: str | None) -> int | None:
        """Seconds until a sign-in as ``name`` from ``address`` may be tried,
        or None if it may now (a cheap look, before any hashing)."""
        from lenta import logins

        states = self._storage.login_failures.get(_throttle_policies(name, address))
        return logins.retry_after(states.values(), self.clock())

    def get_user(self, name: str) -> User:
        return self._storage.users.get(name)

    def get_user_by_id(self, user_id: int) -> User:
        return self._storage.users.get_by_id(user_id)

    def list_users(self) -> list[User]:
        return self._storage.users.list()

    def change_password(self, name: str, password: str, *, keep_session: str | None = None) -> User:
        """Set a user's password and end every session of theirs (but
        ``keep_session``, the one changing it, if given); their failed
        sign-ins are forgotten. Raises UserNotFoundError, InvalidInputError."""
        from lenta import logins

        user = self._storage.users.get(name)
        self._storage.users.set_password_hash(name, self._new_password_hash(password))
        self._storage.sessions.delete_for_user(user.id, keep=keep_session)
        self._storage.login_failures.clear(logins.account_key(name))
        return user

    def set_admin(self, name: str, is_admin: bool) -> User:
        """Give or take the admin role. Raises UserNotFoundError, and
        InvalidInputError when it would leave the site without an admin."""
        user = self._storage.users.get(name)
        if user.is_admin and not is_admin:
            self._keep_an_admin()
        self._storage.users.set_admin(name, is_admin)
        return self._storage.users.get(name)

    def delete_user(self, name: str) -> User:
        """Delete a user; every session of theirs ends with them. Raises
        UserNotFoundError, and InvalidInputError for the last admin."""
        user = self._storage.users.get(name)
        if user.is_admin:
            self._keep_an_admin()
        self._storage.users.delete(name)
        return user

    def _keep_an_admin(self) -> None:
        if self._storage.users.admin_count() <= 1:
            raise InvalidInputError("The last administrator cannot be deleted or lose the administrator role.")

    # -- accounts: registration, a second factor, a user's settings ------

    def register(self, name: str, password: str, *, address: str | None) -> User:
        """Open registration: a visitor from ``address`` makes an ordinary
        account (the rules of :meth:`add_user`). Every attempt from an
        address counts, whatever comes of it: a few an hour are free, then
        each waits a growing while (:data:`lenta.logins.REGISTRATION`).

        Raises:
            InvalidInputError: registration is closed (the site setting
                ``open_registration``), or a bad name or password.
            UserExistsError: the name is taken.
            LoginThrottledError: too many attempts from the address; nothing
                was checked.
        """
        from lenta import logins

        if not self.site_settings().open_registration:
            raise InvalidInputError("Registration is closed on this site.")
        wait = self.registration_wait(address=address)
        if wait is not None:
            raise LoginThrottledError(wait)
        key = logins.registration_key(address)
        if key is not None:
            self._note_failures({key: logins.REGISTRATION})
        return self.add_user(name, password)

    def registration_wait(self, *, address: str | None) -> int | None:
        """Seconds until ``address`` may try to register again, or None if it may now."""
        from lenta import logins

        key = logins.registration_key(address)
        if key is None:
            return None
        return logins.retry_after(self._storage.login_failures.get([key]).values(), self.clock())

    def second_factor(self, user: User) -> SecondFactor:
        """Whether signing in as ``user`` asks for a code (a confirmed
        secret), since when, and how many recovery codes are left."""
        from lenta.totp import SecondFactor

        _, enabled_at = self._storage.accounts.totp(user.id)
        if enabled_at is None:
            return SecondFactor(enabled=False)
        return SecondFactor(True, enabled_at, self._storage.accounts.recovery_codes_left(user.id))

    def start_totp(self, user: User) -> TotpSetup:
        """The secret ``user`` puts in an authenticator app, and its
        ``otpauth://`` URI: made once and kept until a code confirms it
        (:meth:`enable_totp`); until then sign-in asks for no code.

        Raises InvalidInputError if the second factor is on already."""
        from lenta import totp

        secret, enabled_at = self._storage.accounts.totp(user.id)
        if enabled_at is not None:
            raise InvalidInputError("The second factor is already on.")
        if secret is None:
            self._storage.accounts.set_pending_secret(user.id, totp.new_secret())
            secret, _ = self._storage.accounts.totp(user.id)
            assert secret is not None  # set just now (or by a request racing this one)
        return totp.setup(secret, user.name, self.site_settings().site_name)

    def enable_totp(self, user: User, code: str, *, address: str | None) -> list[str]:
        """Turn the second factor on with a code from the app set up by
        :meth:`start_totp`. Returns the new recovery codes (10, each good
        once), shown to the user this once: only their hashes are kept.
        Wrong codes are throttled as in :meth:`check_second_factor`.

        Raises:
            InvalidInputError: a wrong code, no secret to confirm, or the
                second factor is on already.
            LoginThrottledError: too many wrong codes; this one was not checked.
        """
        from lenta import logins
        from lenta import totp

        secret, enabled_at = self._storage.accounts.totp(user.id)
        if enabled_at is not None:
            raise InvalidInputError("The second factor is already on.")
        if secret is None:
            raise InvalidInputError("Start again: there is no secret to confirm.")
        self._raise_if_code_locked(user.name, address)
        step = totp.matching_step(secret, code, self.clock())
        if step is None:
            self._note_failures(_code_policies(user.name, address))
            raise InvalidInputError("The code is not right. Enter the code the app shows now.")
        codes = totp.new_recovery_codes()
        hashes = [totp.recovery_code_hash(user.id, code) for code in codes]
        if not self._storage.accounts.enable(user.id, secret, now=self.clock(), step=step, code_hashes=hashes):
            raise InvalidInputError("Start again: there is no secret to confirm.")
        self._storage.login_failures.clear(logins.second_factor_key(user.name))
        return codes

    def disable_totp(self, user: User, code: str, *, address: str | None) -> None:
        """Turn the second factor off: needs a current code (or an unused
        recovery code, for whoever lost the app), throttled as in
        :meth:`check_second_factor`.

        Raises:
            InvalidInputError: a wrong code, or the second factor is off.
            LoginThrottledError: too many wrong codes; this one was not checked.
        """
        if not self.second_factor(user).enabled:
            raise InvalidInputError("The second factor is off.")
        if not self.check_second_factor(user, code, address=address):
            raise InvalidInputError("The code is not right. Enter the code the app shows now.")
        self._storage.accounts.disable(user.id)

    def check_second_factor(self, user: User, code: str, *, address: str | None) -> bool:
        """Whether ``code`` is ``user``'s second factor now: a code of the
        app within a step (30 s) of now and later than the last accepted
        one (a code is good once), or an unused recovery code, which is then
        used up. Wrong codes are counted per account (apart from wrong
        passwords: see :func:`lenta.logins.second_factor_key`) and per
        address, and locked out as wrong passwords are.

        Raises LoginThrottledError, without checking the code, while the
        account's codes or the address are locked.
        """
        from lenta import logins

        self._raise_if_code_locked(user.name, address)
        if self._second_factor_matches(user, code):
            self._storage.login_failures.clear(logins.second_factor_key(user.name))
            return True
        self._note_failures(_code_policies(user.name, address))
        return False

    def second_factor_wait(self, name: str, *, address: str | None) -> int | None:
        """Seconds until a code for ``name`` from ``address`` may be tried,
        or None if it may now."""
        from lenta import logins

        states = self._storage.login_failures.get(_code_policies(name, address))
        return logins.retry_after(states.values(), self.clock())

    def reset_second_factor(self, name: str) -> User:
        """The admin's reset, for a user who lost both the app and the
        recovery codes: the second factor is off (secret, recovery codes
        and all) and signing in asks for the password only. Raises
        UserNotFoundError."""
        from lenta import logins

        user = self._storage.users.get(name)
        self._storage.accounts.disable(user.id)
        self._storage.login_failures.clear(logins.second_factor_key(name))
        return user

    def _second_factor_matches(self, user: User, code: str) -> bool:
        from lenta import totp

        secret, enabled_at = self._storage.accounts.totp(user.id)
        if secret is None or enabled_at is None:
            return False
        now = self.clock()
        if totp.is_totp_code(code):
            step = totp.matching_step(secret, code, now, after=self._storage.accounts.last_step(user.id))
            return step is not None and self._storage.accounts.accept_step(user.id, step)
        return self._storage.accounts.use_recovery_code(user.id, totp.recovery_code_hash(user.id, code), now=now)

    def _raise_if_code_locked(self, name: str, address: str | None) -> None:
        wait = self.second_factor_wait(name, address=address)
        if wait is not None:
            raise LoginThrottledError(wait)

    def _note_failures(self, policies: Mapping[str, Policy]) -> None:
        """One more failure for each key (read again: others may have failed meanwhile)."""
        from lenta import logins

        now = self.clock()
        states = self._storage.login_failures.get(policies)
        self._storage.login_failures.put(
            {key: logins.after_failure(states.get(key), now, policy) for key, policy in policies.items()},
            forget_before=now - logins.MEMORY,
        )

    def user_settings(self, user: User) -> UserSettings:
        """``user``'s settings (:class:`lenta.user_settings.UserSettings`):
        language, time zone, theme, and how the reader lists items
        (``per_page``, ``full_text``, ``read_on_scroll``); the defaults for
        what they never set."""
        from lenta.user_settings import UserSettings

        return UserSettings.from_stored(self._storage.accounts.settings(user.id))

    def save_user_settings(self, user: User, values: Mapping[str, str]) -> UserSettings:
        """Validate and store ``user``'s settings; a name left out keeps its
        value, and nothing is stored if any value is bad. Raises
        InvalidInputError."""
        from lenta.user_settings import UserSettings

        merged = {**self.user_settings(user).to_strings(), **values}
        settings = UserSettings.from_strings(merged)
        self._storage.accounts.put_settings(user.id, settings.to_strings())
        return settings

    # -- sessions --------------------------------------------------------

    def start_session(self, user: User) -> str:
        """Sign ``user`` in: a new session, and the token its cookie carries
        (only the token's hash is stored). It ends after
        :data:`SESSION_LIFETIME` however much it is used."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        self._storage.sessions.delete_expired(now)
        self._storage.sessions.add(
            session_id(token), user.id, secrets.token_urlsafe(32), now=now, expires_at=now + SESSION_LIFETIME
        )
        return token

    def session(self, token: str) -> Session | None:
        """The live session a cookie's token opens, or None."""
        return self._storage.sessions.get(session_id(token), self.clock())

    def signed_in(self, token: str) -> SignedIn | None:
        """The live session a cookie's token opens, its user's settings
        (:meth:`user_settings`) and the site's (:meth:`site_settings`), read
        at once; None if it opens none."""
        from lenta.user_settings import UserSettings

        found = self._storage.signed_in(session_id(token), self.clock())
        if found is None:
            return None
        session, own, site = found
        return SignedIn(session, UserSettings.from_stored(own), SiteSettings.from_strings(site))

    def end_session(self, token: str) -> None:
        """Sign out: this session ends (the cookie's copies open nothing)."""
        self._storage.sessions.delete(session_id(token))

    def add_messages(self, session: Session, messages: Iterable[Mapping[str, str]]) -> None:
        """Queue messages ({"kind", "text"}) for the session's next page."""
        self._storage.sessions.add_messages(session.id, messages)

    def pop_messages(self, session: Session) -> list[dict[str, str]]:
        """The session's queued messages, now taken off the queue."""
        return self._storage.sessions.pop_messages(session.id)

    # -- settings --------------------------------------------------------

    def site_settings(self) -> SiteSettings:
        return SiteSettings.from_strings(self._storage.settings.all())

    def save_site_settings(self, values: dict[str, str]) -> SiteSettings:
        """Validate and store the admin's settings. Raises InvalidInputError."""
        merged = {**self.site_settings().to_strings(), **values}
        site = SiteSettings.from_strings(merged)
        self._storage.settings.put(site.to_strings())
        return site

    def secret_key(self) -> str:
        """The key that signs cookies: LENTA_SECRET_KEY, else the file
        LENTA_SECRET_KEY_FILE names, else one generated once and kept in the
        database. Raises InvalidInputError for an unreadable or short file."""
        if self.settings.secret_key:
            return self.settings.secret_key
        if self.settings.secret_key_file:
            return read_secret_key_file(self.settings.secret_key_file)
        stored = self._storage.settings.all().get("secret_key")
        if stored:
            return stored
        key = secrets.token_urlsafe(48)
        self._storage.settings.put({"secret_key": key})
        return key

    def rotate_secret_key(self) -> int:
        """A new key in the database, and every session ended (what the old
        key signed opens nothing). Returns how many sessions ended.

        Raises InvalidInputError when the key comes from LENTA_SECRET_KEY or
        LENTA_SECRET_KEY_FILE: that is where it must change."""
        if self.settings.secret_key or self.settings.secret_key_file:
            raise InvalidInputError(
                "The key comes from LENTA_SECRET_KEY or LENTA_SECRET_KEY_FILE: change it there and restart lenta."
            )
        self._storage.settings.put({"secret_key": secrets.token_urlsafe(48)})
        return self._storage.sessions.delete_all()

    # -- saved views (issue 11) ------------------------------------------

    def saved_views(self, user: User) -> SavedViews:
        """``user``'s saved searches, folders and tags, and their publishing
        as feeds at unguessable addresses (:class:`lenta.saved_views.SavedViews`)."""
        from lenta.saved_views import SavedViews
        from lenta.storage._views import ViewStore

        return SavedViews(self, user, ViewStore(self._storage.db))

    def published_view(self, token: str) -> PublishedView:
        """The saved view published at ``token``, as anyone may read it.
        Raises NotFollowingError (a 404): none is, or no longer."""
        from lenta.saved_views import published_view
        from lenta.storage._views import ViewStore

        return published_view(ViewStore(self._storage.db), token)

    # -- the Tiny Tiny RSS API's switch (issue 12) ------------------------

    def ttrss_api_enabled(self, user: User) -> bool:
        """Whether ``user`` lets apps in through the Tiny Tiny RSS API (off
        until they turn it on, as TT-RSS's ENABLE_API_ACCESS). Kept as a
        reserved user setting (``_api_ttrss``: never read as a setting)."""
        from sqlalchemy import select

        from lenta.storage.schema import user_settings

        query = select(user_settings.c.value).where(user_settings.c.user_id == user.id, user_settings.c.name == "_api_ttrss")
        with self._storage.db.read() as connection:
            return connection.execute(query).scalar() == "yes"

    def set_ttrss_api_enabled(self, user: User, enabled: bool) -> None:
        """Turn ``user``'s Tiny Tiny RSS API access on or off; while off, its sessions are refused (checked on every call)."""
        self._storage.accounts.put_settings(user.id, {"_api_ttrss": "yes" if enabled else "no"})


def _throttle_policies(name: str, address: str | None) -> dict[str, Policy]:
    """The keys a sign-in's failures count under, each with its policy."""
    from lenta import logins

    policies = {logins.account_key(name): logins.ACCOUNT}
    key = logins.address_key(address)
    if key is not None:
        policies[key] = logins.ADDRESS
    return policies


def _code_policies(name: str, address: str | None) -> dict[str, Policy]:
    """The keys a wrong second-factor code counts under: the account's codes, and the address."""
    from lenta import logins

    policies = {logins.second_factor_key(name): logins.ACCOUNT}
    key = logins.address_key(address)
    if key is not None:
        policies[key] = logins.ADDRESS
    return policies


def _format_of(kind: str | None) -> str:
    """Miniflux's name for a feed's format, from a media type or lenta's format name."""
    text = (kind or "").lower()
    for name in ("atom", "json", "rdf"):
        if name in text:
            return name
    return "rss"


def session_id(token: str) -> str:
    """What a session is stored under: its token's SHA-256, so that reading
    the database opens no session."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def read_secret_key_file(path: str) -> str:
    """The key in ``path`` (surrounding whitespace ignored). Raises
    InvalidInputError if it cannot be read or is too short to be a key."""
    try:
        key = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(
            "Cannot read the secret key file {path}: {error}", path=path, error=getattr(error, "strerror", None) or str(error)
        ) from None
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise InvalidInputError("The secret key in {path} is shorter than {n} characters.", path=path, n=MIN_SECRET_KEY_LENGTH)
    return key


def check_settings(settings: Settings, *, serving: bool = False) -> None:
    """Raise InvalidInputError for a setting that only a later step would
    trip on: the fetcher's allowlist (LENTA_FETCH_ALLOW) and, for the web
    server (``serving``), the secret key file. ``lenta serve`` and ``lenta
    worker`` check them before they start, not in the first round or at the
    first sign-in."""
    from lenta.fetch.guard import parse_allowlist

    parse_allowlist(settings.fetch_allow)
    if serving and settings.secret_key_file:
        read_secret_key_file(settings.secret_key_file)


async def read_feed_document(target: str, settings: Settings) -> ParsedFeed:
    """Parse a feed from an http(s) URL (through the outbound client) or a
    local file; needs no database. Raises FetchError, ParseError,
    InvalidInputError."""
    from lenta.parse.formats import parse_feed

    try:
        scheme = urlsplit(target).scheme.lower()
    except ValueError:  # "http://[::1": an unclosed IPv6 address
        raise InvalidInputError("{target} is neither a file nor a valid URL.", target=target) from None
    if scheme in {"http", "https"}:
        async with HTTPClient(settings) as client:
            result = await client.fetch(target)
        return parse_feed(result.body or b"", url=result.url, content_type=result.content_type, charset=result.charset)
    path = Path(target)
    try:
        body = await asyncio.to_thread(_read_bounded, path, settings.fetch_max_bytes)
    except OSError as error:
        raise InvalidInputError("Cannot read {path}: {error}", path=target, error=error.strerror) from None
    if len(body) > settings.fetch_max_bytes:
        raise InvalidInputError(
            "{path} is larger than {n} bytes, the most lenta reads of a feed (LENTA_FETCH_MAX_BYTES).",
            path=target,
            n=settings.fetch_max_bytes,
        )
    return parse_feed(body, url=path.resolve().as_uri())


def _read_bounded(path: Path, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of ``path``: a device or a growing file never ends."""
    with path.open("rb") as file:
        return file.read(limit + 1)


def make_lenta(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Lenta:
    """Open the configured database and return the facade.

    A new database is given its schema; an existing one whose schema is out
    of date is migrated only with ``settings.migrate`` (``LENTA_MIGRATE``).

    Raises:
        SchemaVersionError: the schema is out of date (and ``settings.migrate``
            is off), or newer than this lenta knows.
    """
    storage = open_storage(settings.database, migrate=True if settings.migrate else None)
    return Lenta(storage, settings, clock=clock or (lambda: datetime.now(UTC)))


def migrate_database(settings: Settings) -> SchemaChange | None:
    """``lenta migrate``: bring the configured database's schema to the newest,
    under a lock so that processes migrating at once do it once.

    Returns:
        What was done (``before`` is None for a new database), or None if
        the schema was up to date.

    Raises:
        SchemaVersionError: the schema is newer than this lenta knows.
    """
    storage = open_storage(settings.database, migrate=True)
    storage.close()
    return storage.migration
