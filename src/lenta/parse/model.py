"""The normalized feed model every format module produces.

RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.0/1.1 all map into these
frozen dataclasses; nothing downstream of :mod:`lenta.parse` knows which
format a feed came in (except through ``ParsedFeed.format``, shown to users).

HTML fields (``ParsedItem.content``, ``ParsedItem.summary``,
``ParsedFeed.description``) hold the markup as the feed gave it, with
relative URLs still relative; :func:`lenta.parse.sanitize.sanitize_html`
is applied by the update pipeline, which knows the admin's allowlist.
Titles are plain text (entities decoded, tags stripped).
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A media file attached to an item (RSS ``<enclosure>``, Atom
    ``<link rel="enclosure">``, JSON Feed ``attachments``)."""

    url: str
    mime_type: str | None = None
    length: int | None = None


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
    published: datetime | None = None
    updated: datetime | None = None
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
    ``skip_hours``/``skip_days``) are carried raw; :mod:`lenta.update.decide`
    clamps and applies them.
    """

    format: str  # "rss2.0", "rss1.0", "rss0.9x", "atom1.0", "atom0.3", "json1.0", "json1.1"
    title: str | None = None
    link: str | None = None  # the site's home page
    description: str | None = None
    language: str | None = None
    image_url: str | None = None
    updated: datetime | None = None
    hub_url: str | None = None  # WebSub hub (rel="hub")
    self_url: str | None = None  # rel="self" / JSON feed_url
    ttl_minutes: int | None = None
    update_period: str | None = None  # sy:updatePeriod: hourly/daily/weekly/monthly/yearly
    update_frequency: int | None = None  # sy:updateFrequency
    skip_hours: frozenset[int] = frozenset()  # 0-23, GMT
    skip_days: frozenset[str] = frozenset()  # "Monday" ... "Sunday"
    items: tuple[ParsedItem, ...] = field(default_factory=tuple)

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
