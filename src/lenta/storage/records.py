"""What storage is handed to write: typed values, decided elsewhere
(:mod:`lenta.update.store`, :mod:`lenta.update.decide`,
:mod:`lenta.websub`, the facade), so a wrong column name is a type error,
not a failure at run time.

A change names only the columns it writes: every field of
:class:`FeedChanges` and :class:`SubscriptionChanges` is :data:`UNCHANGED`
unless given (``None`` is a value: it clears the column).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any
from typing import Final

from lenta.exceptions import ErrorMessage
from lenta.exceptions import FetchErrorKind
from lenta.parse.model import Enclosure
from lenta.types import FetchOutcome
from lenta.types import SubscriptionMode
from lenta.types import SubscriptionState


class Unchanged(enum.Enum):
    """The type of :data:`UNCHANGED`."""

    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = Unchanged.UNCHANGED


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
    outcome: FetchOutcome
    duration: float
    status: int | None = None
    bytes: int = 0
    new_items: int = 0
    updated_items: int = 0
    error: str | None = None  # in English
    dropped_items: int = 0  # items over the per-fetch cap, not stored
    cut_fields: int = 0  # fields shortened or dropped by the bounds
    error_params: ErrorMessage | None = None  # the error for every language (lenta.exceptions)


@dataclass(frozen=True, slots=True)
class FeedChanges:
    """Columns of one feed to write; the others are left as they are.

    What a fetch decides (:mod:`lenta.update.store`) and what the admin
    edits (:meth:`lenta.core.Lenta.change_feed`) alike. ``a | b`` is ``a``
    with ``b``'s columns written over it.
    """

    url: str | Unchanged = UNCHANGED
    pending_url: str | None | Unchanged = UNCHANGED  # a permanent redirect seen once
    credentials: str | None | Unchanged = field(default=UNCHANGED, repr=False)
    custom_title: str | None | Unchanged = UNCHANGED
    refresh: int | None | Unchanged = UNCHANGED
    # What the last answer said.
    checked_at: datetime | Unchanged = UNCHANGED
    http_status: int | None | Unchanged = UNCHANGED
    error: str | None | Unchanged = UNCHANGED  # in English
    error_kind: FetchErrorKind | None | Unchanged = UNCHANGED
    error_params: ErrorMessage | None | Unchanged = UNCHANGED  # the error for every language
    error_count: int | Unchanged = UNCHANGED
    gone: bool | Unchanged = UNCHANGED
    etag: str | None | Unchanged = UNCHANGED
    last_modified: str | None | Unchanged = UNCHANGED
    next_check_at: datetime | None | Unchanged = UNCHANGED
    modified_at: datetime | None | Unchanged = UNCHANGED  # new or changed items arrived
    # The feed's own fields, from its last body.
    feed_title: str | None | Unchanged = UNCHANGED
    site_url: str | None | Unchanged = UNCHANGED
    description: str | None | Unchanged = UNCHANGED
    image_url: str | None | Unchanged = UNCHANGED
    format: str | None | Unchanged = UNCHANGED
    hub_url: str | None | Unchanged = UNCHANGED
    self_url: str | None | Unchanged = UNCHANGED
    ttl_minutes: int | None | Unchanged = UNCHANGED
    update_period: str | None | Unchanged = UNCHANGED
    update_frequency: int | None | Unchanged = UNCHANGED
    skip_hours: frozenset[int] | Unchanged = UNCHANGED
    skip_days: frozenset[str] | Unchanged = UNCHANGED
    publish_interval: float | None | Unchanged = UNCHANGED

    def changed(self) -> Iterator[tuple[str, object]]:
        """(field, value) of each column to write, in the fields' order."""
        return _changed(self, _FEED_CHANGE_FIELDS)

    def __or__(self, other: FeedChanges) -> FeedChanges:
        # Any: the values are other's own fields, so each fits its field here.
        columns: dict[str, Any] = dict(other.changed())
        return dataclasses.replace(self, **columns)


@dataclass(frozen=True, slots=True)
class SubscriptionChanges:
    """Columns of one WebSub subscription to write (what
    :mod:`lenta.websub` does with a hub's answers); the others are left
    as they are."""

    feed_id: int | None | Unchanged = UNCHANGED  # None: the feed is gone, only the unsubscription is left
    mode: SubscriptionMode | Unchanged = UNCHANGED
    state: SubscriptionState | Unchanged = UNCHANGED
    requested_at: datetime | Unchanged = UNCHANGED
    verified_at: datetime | Unchanged = UNCHANGED
    lease_seconds: int | Unchanged = UNCHANGED
    expires_at: datetime | None | Unchanged = UNCHANGED
    retry_at: datetime | None | Unchanged = UNCHANGED
    attempts: int | Unchanged = UNCHANGED
    error: str | None | Unchanged = UNCHANGED  # in English
    error_params: ErrorMessage | None | Unchanged = UNCHANGED  # the error for every language

    def changed(self) -> Iterator[tuple[str, object]]:
        """(field, value) of each column to write, in the fields' order."""
        return _changed(self, _SUBSCRIPTION_CHANGE_FIELDS)


def _changed(changes: object, names: tuple[str, ...]) -> Iterator[tuple[str, object]]:
    for name in names:
        value = getattr(changes, name)
        if value is not UNCHANGED:
            yield name, value


_FEED_CHANGE_FIELDS: Final = tuple(f.name for f in dataclasses.fields(FeedChanges))
_SUBSCRIPTION_CHANGE_FIELDS: Final = tuple(f.name for f in dataclasses.fields(SubscriptionChanges))
