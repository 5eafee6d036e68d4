"""The database schema as SQLAlchemy Core tables: the one description both
SQLite and PostgreSQL use.

The tables are created only by migrations (``migrations/versions``); this
module is what queries are written against, and a test checks that the
migrated schema and this metadata agree (alembic's ``compare_metadata``).

Feeds and items are site-wide: a feed is stored and fetched once however
many people follow it. Users have a role, sessions and sign-in failures
only; who follows what, and per-user read/starred state, are for the
personal reader to add, in tables keyed by user.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean
from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import Dialect
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy import true
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out.

    Stored as naive UTC ("timestamp without time zone") on both backends,
    so sorting and comparisons behave the same on SQLite and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; lenta stores aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite returns text for some expressions (e.g. max())
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("custom_title", Text),  # the admin's title; wins over feed_title
    Column("feed_title", Text),  # the feed's own <title>
    Column("site_url", Text),
    Column("description", Text),
    Column("image_url", Text),
    Column("format", String(16)),
    Column("refresh", Integer),  # seconds; NULL adaptive; 0 never
    Column("created_at", UTCDateTime, nullable=False),
    Column("checked_at", UTCDateTime),
    Column("next_check_at", UTCDateTime),
    Column("modified_at", UTCDateTime),  # last time new or changed items arrived
    Column("http_status", Integer),
    Column("error", Text),
    Column("error_kind", String(32)),
    Column("error_count", Integer, nullable=False, server_default="0"),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("hub_url", Text),
    Column("gone", Boolean, nullable=False, server_default=false()),
    # A permanent redirect seen once; the URL changes when it is seen again.
    Column("pending_url", Text),
    # Scheduling hints from the last feed body (kept for 304 responses).
    Column("ttl_minutes", Integer),
    Column("update_period", String(16)),
    Column("update_frequency", Integer),
    Column("skip_hours", Text),  # comma-separated 0-23
    Column("skip_days", Text),  # comma-separated day names
    # Adaptive schedule: mean seconds between new items, smoothed.
    Column("publish_interval", Float),
    # WebSub topic: the feed's rel="self" URL (migration 0002).
    Column("self_url", Text),
    # The URL's userinfo ("user:password"), kept apart from ``url`` so that
    # no page, export or log shows it (migration 0004; lenta.credentials).
    Column("credentials", Text),
    # The error's catalog message and arguments, JSON (migration 0006;
    # lenta.exceptions.ErrorMessage): ``error`` is its English text.
    Column("error_params", Text),
    # Whether the public pages show the feed (migration 0009): the admin's
    # feeds are; a feed only a reader subscribed to is not, until the admin
    # publishes it.
    Column("published", Boolean, nullable=False, server_default=true()),
    Index(None, "next_check_at"),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),  # identity in the feed: guid, else link, else content hash
    Column("hash", String(64), nullable=False),  # of the stored fields: detects upstream changes
    Column("guid", Text),
    Column("link", Text),
    Column("title", Text),
    Column("author", Text),
    Column("published_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Column("date", UTCDateTime, nullable=False),  # sort date
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("content", Text),
    Column("summary", Text),
    Column("enclosures", Text),  # JSON list of {url, mime_type, length}
    Column("categories", Text),  # JSON list of strings
    UniqueConstraint("feed_id", "key"),
    Index(None, "date", "id"),
    Index(None, "feed_id", "date", "id"),
    # A feed's items by arrival (migration 0009): how many came after a
    # reader's "read through" mark (lenta.storage._reader).
    Index(None, "feed_id", "id"),
)

categories = Table(
    "categories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", Text, nullable=False, unique=True),
    Column("description", Text),
)

feed_categories = Table(
    "feed_categories",
    metadata,
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", Integer, ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "category_id"),
)

# -- item counts (migration 0005) ------------------------------------------------

# How many items each time bucket of their sort date (``items.date``) holds,
# for the whole site, per feed and per category: what turns a page number
# into a seek instead of a walk over every item before it
# (lenta.storage._counts). ``level`` 0 is the total (bucket 0), 1 the
# coarse buckets, 2 the fine ones; ``bucket`` is floor(seconds since 1970
# / 2**shift) of the level. Written in the transaction that changes the items or
# the categories' feeds; rows at zero are deleted.
item_counts = Table(
    "item_counts",
    metadata,
    Column("level", Integer, primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
)

feed_item_counts = Table(
    "feed_item_counts",
    metadata,
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
)

category_item_counts = Table(
    "category_item_counts",
    metadata,
    Column("category_id", Integer, ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
)

# Each category's items by date (migration 0008; lenta.storage._category_items):
# an item is filed under every category of its feed, so that a category's
# listing is one seek, as a feed's is, however many feeds the category has.
category_items = Table(
    "category_items",
    metadata,
    Column("category_id", Integer, ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    Column("date", UTCDateTime, primary_key=True),  # the item's sort date, as items.date
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "item_id"),
    sqlite_with_rowid=False,  # the primary key is the table: one b-tree fewer to write
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("is_admin", Boolean, nullable=False, server_default=false()),
    Column("created_at", UTCDateTime, nullable=False),
    # A second factor (migration 0011): the TOTP secret (base32), and when it
    # was confirmed; signing in asks for a code only once it is.
    Column("totp_secret", Text),
    Column("totp_enabled_at", UTCDateTime),
)

site_settings = Table(
    "site_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

fetch_log = Table(
    "fetch_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("status", Integer),
    Column("outcome", String(32), nullable=False),  # ok, not_modified, or a FetchErrorKind
    Column("duration", Float, nullable=False),
    Column("bytes", Integer, nullable=False, server_default="0"),
    Column("new_items", Integer, nullable=False, server_default="0"),
    Column("updated_items", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    # What the bounds cut from this fetch (migration 0004): items past the
    # per-fetch cap (oldest first), and fields shortened or dropped.
    Column("dropped_items", Integer, nullable=False, server_default="0"),
    Column("cut_fields", Integer, nullable=False, server_default="0"),
    Column("error_params", Text),  # as feeds.error_params (migration 0006)
    Index(None, "feed_id", "at"),
)


# -- feed icons (migration 0007) ------------------------------------------------

# Each feed's icon, fetched through the guarded client and served by lenta
# from its own URL (lenta.icons decides, lenta.update.icons fetches). A row
# without data records a try that found none (``checked_at`` says when);
# a failed refresh of an icon keeps the data it had.
feed_icons = Table(
    "feed_icons",
    metadata,
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True),
    Column("checked_at", UTCDateTime, nullable=False),  # the last try
    Column("fetched_at", UTCDateTime),  # when ``data`` was fetched
    Column("url", Text),  # where ``data`` came from
    Column("media_type", String(32)),  # what the bytes are (lenta.icons.sniff_image), not what the server said
    Column("digest", String(16)),  # lenta.icons.digest of ``data``: the ETag, and the version in its URL
    Column("data", LargeBinary),  # at most lenta.icons.MAX_ICON_BYTES
)


# -- signing in (migration 0004) ------------------------------------------------

# One row per signed-in browser. The cookie holds a random token; the row is
# keyed by its SHA-256, so the database alone opens no session. Deleting the
# rows ends sessions: logout (this one), a password change or the user's
# deletion (all of theirs). Flash messages live here, not in the cookie.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),  # fixed at sign-in: use does not extend it
    Column("messages", Text),  # JSON list of {"kind", "text"}
)

# Failed sign-ins per account ("user:<name>") and per address ("addr:<ip>"):
# what login throttling decides from (lenta.logins).
login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(320), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_at", UTCDateTime, nullable=False, index=True),
    Column("locked_until", UTCDateTime),
)


# -- WebSub (migration 0002) ----------------------------------------------------

websub_subscriptions = Table(
    "websub_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    # NULL once the feed is deleted (or changed hub/topic): only the
    # unsubscription is left to do.
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="SET NULL"), unique=True),
    Column("hub_url", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("callback", Text, nullable=False),
    Column("token", String(64), nullable=False, unique=True),
    Column("secret", String(128), nullable=False),
    Column("mode", String(16), nullable=False),  # subscribe, unsubscribe
    Column("state", String(16), nullable=False),  # pending, requested, active, failed
    Column("lease_seconds", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("requested_at", UTCDateTime),
    Column("verified_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
    Column("retry_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("error_params", Text),  # as feeds.error_params (migration 0006)
)

# Upper bounds (seconds) of the fetch-duration histogram, one column each.
FETCH_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def bucket_column(bound: float) -> str:
    return "le_" + str(bound).replace(".", "_")


# Counters of every fetch since the database was made, by outcome, written by
# whichever process fetched: /metrics reads them from here, so any process
# (the web server, or one of many workers) reports the whole site.
fetch_stats = Table(
    "fetch_stats",
    metadata,
    Column("outcome", String(32), primary_key=True),
    Column("count", Integer, nullable=False, server_default="0"),
    Column("seconds", Float, nullable=False, server_default="0"),
    *(Column(bucket_column(bound), Integer, nullable=False, server_default="0") for bound in FETCH_BUCKETS),
)


# -- the personal reader (migration 0009; lenta.storage._reader) ------------------

# A user following a feed. The feed is fetched once however many follow it;
# what is each user's own lives here and in the tables below. Items of the
# feed with an id up to ``read_through`` are read unless an item_states row
# says otherwise; ``unread`` is kept as items are written, read and deleted.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text),  # the user's own title for the feed
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_through", Integer, nullable=False, server_default="0"),
    Column("unread", Integer, nullable=False, server_default="0"),
    # When read_through last moved (migration 0013): items it covers changed then.
    Column("read_through_at", UTCDateTime),
    UniqueConstraint("user_id", "feed_id"),
    Index(None, "feed_id"),
)

# A user's folders; they nest (``parent_id``), and a subscription may be in
# several (subscription_folders).
folders = Table(
    "folders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", Integer, ForeignKey("folders.id", ondelete="CASCADE")),
    Column("name", Text, nullable=False),
    Index(None, "user_id", "parent_id"),
)

subscription_folders = Table(
    "subscription_folders",
    metadata,
    Column("subscription_id", Integer, ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True),
    Column("folder_id", Integer, ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "folder_id"),
)

# What a user did to one item, where it differs from the default: ``read``
# NULL means "as the subscription's read_through says"; ``starred_at`` NULL
# means not starred. ``feed_id`` and ``date`` are the item's, for marking a
# feed read and for the starred view's order.
item_states = Table(
    "item_states",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("feed_id", Integer, nullable=False),
    Column("read", Boolean),
    Column("starred_at", UTCDateTime),
    Column("date", UTCDateTime, nullable=False),
    Column("hidden", Boolean),  # a rule hid it (migration 0011): in no view but the item's own page
    # When this row last changed (migration 0013): what sync APIs ask for ("changed since").
    Column("changed_at", UTCDateTime),
    Index(None, "user_id", "feed_id", "item_id"),
    Index(None, "user_id", "date", "item_id"),
    Index(None, "item_id"),
)


# -- the reader, continued (migration 0011) -------------------------------------

# One-time codes that stand in for the second factor, hashed like passwords.
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("code_hash", Text, nullable=False),
    Column("used_at", UTCDateTime),
)

# A user's settings (language, time_zone, theme, per_page, full_text,
# read_on_scroll): name → text, as site_settings.
user_settings = Table(
    "user_settings",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# A user's tags, and the items they put them on (``date``: the item's, for
# the tag's view, newest first). A tagged item outlives retention, as a
# starred one does.
tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    UniqueConstraint("user_id", "name"),
)

item_tags = Table(
    "item_tags",
    metadata,
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("date", UTCDateTime, nullable=False),
    Index(None, "tag_id", "date", "item_id"),
    Index(None, "item_id"),
    Index(None, "user_id", "item_id"),
)

# A user's rules: when ``field`` of a new item of the subscription or folder
# (neither: of everything they follow) matches ``pattern`` (words, or a
# regular expression), do ``action`` (read, star, tag, hide, notify).
rules = Table(
    "rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("subscription_id", Integer, ForeignKey("subscriptions.id", ondelete="CASCADE")),
    Column("folder_id", Integer, ForeignKey("folders.id", ondelete="CASCADE")),
    Column("field", String(16), nullable=False),
    Column("match", String(16), nullable=False),
    Column("pattern", Text, nullable=False),
    Column("action", String(16), nullable=False),
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE")),
    Column("webhook_url", Text),
    Column("webhook_secret", Text),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("created_at", UTCDateTime, nullable=False),
)

# A notify rule's webhook calls: the log the user sees, and the queue of retries.
rule_deliveries = Table(
    "rule_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rule_id", Integer, ForeignKey("rules.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("state", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime),
    Column("http_status", Integer),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Index(None, "state", "next_attempt_at"),
)

# A saved search, folder or tag view; published as feeds and a page at
# /views/<token> while ``token`` is set (an unguessable secret; revoked by
# setting it to NULL or a new one).
saved_views = Table(
    "saved_views",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # search, folder, tag
    Column("query", Text),
    Column("folder_id", Integer, ForeignKey("folders.id", ondelete="CASCADE")),
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE")),
    Column("token", String(64), unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)


# -- sync APIs (migration 0012; lenta.api_keys) -----------------------------------

# Secrets a user's apps sign in with instead of the account's password:
# app passwords (HTTP Basic, ClientLogin, every API) and API keys (Miniflux's
# X-Auth-Token). Only a SHA-256 of each is kept: they are random, 160 bits.
api_credentials = Table(
    "api_credentials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # app_password, api_key
    Column("secret_hash", String(64), nullable=False, unique=True),
    # Fever's api_key for an app password: md5("name:secret"), which a Fever
    # client sends (migration 0013); Fever knows no other way.
    Column("fever_key", String(32)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Index(None, "fever_key", unique=True),
)
