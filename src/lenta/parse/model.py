"""The normalized feed model every format module produces.

RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.0/1.1 all map into these
frozen dataclasses; nothing downstream of :mod:`lenta.parse` knows which
format a feed came in (except through ``ParsedFeed.format``, shown to users).

HTML fields (``ParsedItem.content``, ``ParsedItem.summary``,
``ParsedFeed.description``) hold the markup as the feed gave it, with
relative URLs still relative; :func:`lenta.parse.sanitize.sanitize_html`
is applied by the update pipeline, which knows the admin's allowlist.
Titles are plain text (entities decoded, tags stripped); titles and
authors are one line each, without control characters (see
:func:`lenta.parse.xml.one_line`).

Every value comes out bounded, whatever the document says, so nothing
downstream (``timedelta`` arithmetic, database columns) can overflow: the
bounds are the constants below, applied by the format modules. No string
holds NUL, another C0 control than tab, newline and carriage return, or a
lone surrogate (PostgreSQL refuses NUL in text, and psycopg cannot encode
a surrogate): see :func:`lenta.parse.xml.clean_text`.
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any
from typing import Final

# A feed asking to be polled less often than every four weeks is polled
# every four weeks (Drupal's longest refresh interval): larger values clamp.
MAX_TTL_MINUTES: Final = 4 * 7 * 24 * 60
# sy:updateFrequency is updates per sy:updatePeriod; beyond this many the
# scheduler's floor interval is already far below any poll interval. Values
# clamp into [1, MAX_UPDATE_FREQUENCY] (0 means nothing; 1 is the default).
MAX_UPDATE_FREQUENCY: Final = 1000
UPDATE_PERIODS: Final = frozenset({"hourly", "daily", "weekly", "monthly", "yearly"})
SKIP_DAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# PostgreSQL's BIGINT; a larger enclosure length is garbage, not a big file,
# and reads as absent.
MAX_ENCLOSURE_LENGTH: Final = 2**63 - 1
# Dates outside these years are sentinels ("0001-01-01"), typos or attacks,
# not publication dates: they read as absent (None), like an unreadable date.
MIN_YEAR: Final = 1900
MAX_YEAR: Final = 2199


def clamp(value: int | None, low: int, high: int) -> int | None:
    """``value`` moved into ``[low, high]``; None stays None."""
    if value is None:
        return None
    return low if value < low else high if value > high else value


def enclosure_length(value: int | None) -> int | None:
    """An enclosure length, or None when it is outside ``[0,
    MAX_ENCLOSURE_LENGTH]``."""
    if value is None or not 0 <= value <= MAX_ENCLOSURE_LENGTH:
        return None
    return value


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A media file attached to an item (RSS ``<enclosure>``, Atom
    ``<link rel="enclosure">``, JSON Feed ``attachments``)."""

    url: str
    mime_type: str | None = None
    length: int | None = None  # bytes, 0..MAX_ENCLOSURE_LENGTH


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One entry of a feed, normalized.

    ``content`` is the fullest body the feed offers (``content:encoded``,
    Atom ``<content>``, JSON ``content_html``); ``summary`` is the short one
    (RSS ``<description>`` when a fuller body exists, Atom ``<summary>``).
    When a feed has only one body it is in ``content``.
    """

    guid: str | None = None
    link: str | None = None
    title: str | None = None
    author: str | None = None
    published: datetime | None = None  # aware, UTC, years MIN_YEAR..MAX_YEAR
    updated: datetime | None = None  # likewise
    content: str | None = None
    summary: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    categories: tuple[str, ...] = ()
    # The base URL relative links inside content/summary resolve against
    # (xml:base, else the item link's document, else the feed URL).
    base_url: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A whole feed document, normalized.

    Scheduling hints (``ttl_minutes``, ``update_period``/``update_frequency``,
    ``skip_hours``/``skip_days``) are carried as the feed gives them, within
    the bounds above; :mod:`lenta.update.schedule` decides what they mean.
    """

    format: str  # "rss2.0", "rss1.0", "rss0.9x", "atom1.0", "atom0.3", "json1.0", "json1.1"
    title: str | None = None
    link: str | None = None  # the site's home page
    description: str | None = None
    language: str | None = None
    image_url: str | None = None
    updated: datetime | None = None  # aware, UTC, years MIN_YEAR..MAX_YEAR
    hub_url: str | None = None  # WebSub hub (rel="hub")
    self_url: str | None = None  # rel="self" / JSON feed_url
    ttl_minutes: int | None = None  # 0..MAX_TTL_MINUTES
    update_period: str | None = None  # sy:updatePeriod, one of UPDATE_PERIODS
    update_frequency: int | None = None  # sy:updateFrequency, 1..MAX_UPDATE_FREQUENCY
    skip_hours: frozenset[int] = frozenset()  # 0-23, GMT
    skip_days: frozenset[str] = frozenset()  # of SKIP_DAYS
    items: tuple[ParsedItem, ...] = field(default_factory=tuple)
    # Items past the parser's cap (``parse_feed(max_items=…)``), never read:
    # feeds list their newest first, so these are the oldest.
    skipped_items: int = 0

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (dates as ISO 8601, sets sorted)."""
        data: dict[str, Any] = _jsonable(asdict(self))
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted(_jsonable(item) for item in value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value
