"""What the update pipeline hands storage to write: plain values, decided
elsewhere (:mod:`lenta.update.decide`), written here in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from lenta.parse.model import Enclosure


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """One item as it is to be stored (HTML already sanitized)."""

    key: str
    hash: str
    guid: str | None
    link: str | None
    title: str | None
    author: str | None
    published_at: datetime | None
    updated_at: datetime | None
    date: datetime
    content: str | None
    summary: str | None
    enclosures: tuple[Enclosure, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchLogRecord:
    at: datetime
    outcome: str  # "ok", "not_modified" or a FetchErrorKind value
    duration: float
    status: int | None = None
    bytes: int = 0
    new_items: int = 0
    updated_items: int = 0
    error: str | None = None
    dropped_items: int = 0  # items over the per-fetch cap, not stored
    cut_fields: int = 0  # fields shortened or dropped by the bounds


@dataclass(frozen=True, slots=True)
class FeedWrite:
    """Everything one fetch of one feed changes.

    ``feed_changes`` maps ``feeds`` column names to new values (only the
    columns that change). ``new_items`` are inserted in the given order;
    ``changed_items`` maps an existing item id to its new record.
    """

    feed_id: int
    feed_changes: Mapping[str, object]
    new_items: tuple[ItemRecord, ...] = ()
    changed_items: Mapping[int, ItemRecord] = field(default_factory=dict)
    log: FetchLogRecord | None = None
