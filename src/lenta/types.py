"""lenta's public data types: what the facade returns and takes.

Feeds and items are site-wide and stored once, and a feed is fetched once
whoever reads it; users so far have a role and sessions only. Per-user
state (subscriptions, read/starred, to come with the personal reader) is
meant to live in types and tables of its own, keyed by user and item.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Generic
from typing import TypeVar

from lenta.exceptions import ErrorMessage
from lenta.exceptions import FetchErrorKind
from lenta.parse.model import Enclosure

T = TypeVar("T")

# Drupal's refresh choices (seconds); None = adaptive (lenta decides), 0 = never.
REFRESH_CHOICES: tuple[int, ...] = (
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    32400,
    43200,
    86400,
    172800,
    259200,
    604800,
    1209600,
    2419200,
)
NEVER = 0


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    title: str  # what to show: the admin's title, else the feed's own, else the URL
    custom_title: str | None
    feed_title: str | None
    site_url: str | None
    description: str | None
    image_url: str | None
    format: str | None
    refresh: int | None  # seconds; None adaptive; 0 never
    created_at: datetime
    checked_at: datetime | None
    next_check_at: datetime | None
    modified_at: datetime | None  # last time new or changed items arrived
    http_status: int | None
    error: str | None
    error_kind: str | None
    error_count: int
    etag: str | None
    last_modified: str | None
    hub_url: str | None
    gone: bool
    pending_url: str | None = None  # a permanent redirect seen once, not yet confirmed
    publish_interval: float | None = None  # seconds between new items, smoothed
    # Polling hints from the last feed body (kept for 304 answers).
    ttl_minutes: int | None = None
    update_period: str | None = None
    update_frequency: int | None = None
    skip_hours: frozenset[int] = frozenset()
    skip_days: frozenset[str] = frozenset()
    item_count: int = 0
    category_ids: tuple[int, ...] = ()
    # The URL's userinfo ("user:password") for HTTP Basic auth, kept apart
    # from ``url`` (lenta.credentials); only the fetcher ever uses it.
    credentials: str | None = field(default=None, repr=False)
    # The error as its message and arguments, for every language (``error``
    # is its English text); None before a fetch failed, or for a row stored
    # before errors kept them (migration 0006).
    error_params: ErrorMessage | None = None
    published: bool = True  # shown on the public pages (a reader's own feed is not)

    @property
    def display_url(self) -> str:
        """The URL as an admin sees it: ``https://***@host/feed`` when it has credentials."""
        from lenta.credentials import masked

        return masked(self.url, self.credentials)


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    feed_id: int
    feed_title: str
    key: str  # identity within the feed: guid, else link, else a content hash
    guid: str | None
    link: str | None
    title: str | None
    author: str | None
    published_at: datetime | None
    updated_at: datetime | None
    date: datetime  # the sort date: published, else updated, else first seen
    content: str | None  # sanitized HTML
    summary: str | None  # sanitized HTML
    enclosures: tuple[Enclosure, ...] = ()
    categories: tuple[str, ...] = ()
    first_seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Followed:
    """A feed as one reader follows it: their title for it, its unread
    count, their folders (lenta.reader)."""

    id: int  # the subscription's id
    feed_id: int
    title: str  # the reader's title, else the feed's, else its URL
    custom_title: str | None
    url: str
    site_url: str | None
    unread: int
    folder_ids: tuple[int, ...] = ()
    error: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FollowedBrief:
    """A subscription as the reader's navigation shows it (the rest of
    :class:`Followed` is not read for it: a reader may follow thousands)."""

    id: int
    title: str
    unread: int
    folder_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Folder:
    """A reader's folder; folders nest (``parent_id``)."""

    id: int
    name: str
    parent_id: int | None = None


@dataclass(frozen=True, slots=True)
class Tag:
    """A reader's tag; ``id`` is theirs alone."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A reader's rule (lenta.rules): when ``field`` of a new item of the
    subscription or folder (neither: of everything they follow) matches
    ``pattern``, do ``action``."""

    id: int
    name: str
    field: str  # title, content, author, link, category, any
    match: str  # words, regex
    pattern: str
    action: str  # read, star, tag, hide, notify
    subscription_id: int | None = None
    folder_id: int | None = None
    tag_id: int | None = None
    webhook_url: str | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ReaderItem:
    """An item with what one reader did to it."""

    item: Item
    read: bool
    starred: bool
    feed_title: str  # the reader's title for its feed


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    title: str
    description: str | None = None
    feed_count: int = 0


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    is_admin: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: whose it is, its CSRF token, when it ends."""

    id: str  # SHA-256 of the cookie's token
    user: User
    csrf_token: str
    created_at: datetime
    expires_at: datetime  # fixed at sign-in: using the session does not extend it
    has_messages: bool = False  # flash messages were queued when it was read: a page takes them


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing: ``items`` plus what a pager needs."""

    items: tuple[T, ...]
    page: int  # zero-based, as Drupal's ?page=N
    per_page: int
    total: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True, slots=True)
class RefreshSummary:
    """What one `refresh` did, summed over feeds."""

    ok: int = 0
    not_modified: int = 0
    failed: int = 0
    new_items: int = 0
    updated_items: int = 0
    failures: tuple[tuple[str, str], ...] = field(default=())  # (url, error)

    def __add__(self, other: RefreshSummary) -> RefreshSummary:
        return RefreshSummary(
            ok=self.ok + other.ok,
            not_modified=self.not_modified + other.not_modified,
            failed=self.failed + other.failed,
            new_items=self.new_items + other.new_items,
            updated_items=self.updated_items + other.updated_items,
            failures=self.failures + other.failures,
        )


# The states /metrics counts feeds in (see Health.feeds_by_state).
FEED_STATES: tuple[str, ...] = ("ok", "error", "gone", "never_checked")


@dataclass(frozen=True, slots=True)
class Health:
    """The database's kind and how the feeds stand (``/healthz``)."""

    database: str  # "sqlite" or "postgresql"
    feeds_by_state: dict[str, int]  # each of FEED_STATES: ok, error, gone, never_checked (not yet fetched)
    feeds_due: int  # next check now or past
    queue_lag_seconds: float  # how far behind schedule the most overdue feed is


@dataclass(frozen=True, slots=True)
class FetchFigures:
    """Every fetch with one outcome so far, by any refresher process."""

    outcome: str  # a FetchOutcome value
    count: int
    seconds: float  # from request to stored result, summed
    buckets: tuple[tuple[float, int], ...]  # (upper bound in seconds, fetches that took at most that)


@dataclass(frozen=True, slots=True)
class OperatorFigures:
    """What ``/metrics`` shows: fetches by outcome, items stored, the feeds' health."""

    health: Health
    items_stored: int
    fetches: tuple[FetchFigures, ...]


class FetchOutcome(enum.StrEnum):
    """How one fetch of a feed ended, as its fetch log and ``/metrics`` keep
    it: a success, or how it failed (the values of
    :class:`lenta.exceptions.FetchErrorKind`, one for one)."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    PUSH = "push"  # a body a WebSub hub pushed
    DNS = "dns"
    REFUSED = "refused"
    TLS = "tls"
    TIMEOUT = "timeout"
    HTTP_CLIENT = "http_4xx"
    HTTP_SERVER = "http_5xx"
    GONE = "gone"
    BOT_WALL = "bot_wall"
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "redirects"
    NOT_ALLOWED = "not_allowed"
    NETWORK = "network"
    NOT_A_FEED = "not_a_feed"
    PARSE = "parse"
    INTERNAL = "internal"

    @classmethod
    def of(cls, kind: FetchErrorKind) -> FetchOutcome:
        """The outcome of a fetch that failed with ``kind``."""
        return cls(kind.value)

    @property
    def failed(self) -> bool:
        return self not in _SUCCESSES


_SUCCESSES = frozenset({FetchOutcome.OK, FetchOutcome.NOT_MODIFIED, FetchOutcome.PUSH})


# -- WebSub (lenta as a subscriber; see lenta.websub) --------------------------


class SubscriptionMode(enum.StrEnum):
    """What lenta asked the hub for."""

    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


class SubscriptionState(enum.StrEnum):
    """Where a request to the hub stands."""

    PENDING = "pending"  # to be sent at ``retry_at``
    REQUESTED = "requested"  # sent; the hub has yet to verify it on the callback
    ACTIVE = "active"  # verified: the hub pushes until ``expires_at``
    FAILED = "failed"  # the hub refused, failed or denied; ``error`` says why, retried at ``retry_at``


@dataclass(frozen=True, slots=True)
class Subscription:
    """A feed's WebSub subscription at its hub.

    ``feed_id`` is None once the feed was deleted (or moved to another hub
    or topic): the row then only waits for the hub to confirm the
    unsubscription. Pushes count while ``expires_at`` is ahead, whatever
    the state (a renewal in flight does not stop them).
    """

    id: int
    feed_id: int | None
    hub_url: str
    topic: str
    callback: str
    token: str  # the last path segment of ``callback``
    secret: str = field(repr=False)
    mode: SubscriptionMode
    state: SubscriptionState
    created_at: datetime
    lease_seconds: int | None = None  # as asked, then as the hub granted
    requested_at: datetime | None = None
    verified_at: datetime | None = None
    expires_at: datetime | None = None
    retry_at: datetime | None = None
    attempts: int = 0  # failures in a row
    error: str | None = None  # in English
    error_params: ErrorMessage | None = None  # the error for every language (None: from before migration 0006)


@dataclass(frozen=True, slots=True)
class HubFeed:
    """What WebSub needs of a feed: its hub and its topic (``rel="self"``,
    else the feed URL)."""

    feed_id: int
    hub_url: str
    topic: str
    gone: bool = False
