"""Pure decisions of the update pipeline: no I/O, no settings globals, the
clock passed in.

- which parsed items are new, which changed upstream, which are unchanged
  (:func:`plan_items`), by identity key and content hash;
- when to check a feed next (:func:`next_check_at`), from its refresh
  setting or an adaptive interval, feed hints, HTTP caching headers,
  Retry-After and error backoff;
- what a fetch changes on the feed row (:func:`changes_after_success`,
  :func:`changes_after_not_modified`, :func:`changes_after_error`).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from lenta.parse.model import ParsedFeed
from lenta.parse.model import ParsedItem
from lenta.storage.records import ItemRecord

MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(days=1)
DEFAULT_INTERVAL = timedelta(hours=1)
MAX_BACKOFF = timedelta(days=1)
# A date this far ahead of the fetch is treated as "now" for sorting, so a
# wrongly dated item cannot sit on top of the page for years.
FUTURE_TOLERANCE = timedelta(minutes=10)

Sanitize = Callable[[str | None, str | None], str | None]


def item_key(item: ParsedItem) -> str:
    """An item's identity in its feed: guid, else link, else a content hash."""
    if item.guid and item.guid.strip():
        return item.guid.strip()
    if item.link:
        return item.link
    digest = hashlib.sha256()
    for part in (item.title, item.content, item.summary):
        digest.update((part or "").encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return "sha256:" + digest.hexdigest()


def _record_hash(parts: Iterable[object]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


def sort_date(item: ParsedItem, now: datetime) -> datetime:
    """Published, else updated, else now; never in the future."""
    date = item.published or item.updated or now
    return now if date > now + FUTURE_TOLERANCE else date


def build_records(parsed: ParsedFeed, sanitize: Sanitize, now: datetime) -> list[ItemRecord]:
    """Sanitize and normalize a parsed feed's items, in feed order,
    dropping later duplicates of the same key."""
    records: list[ItemRecord] = []
    seen: set[str] = set()
    for item in parsed.items:
        key = item_key(item)
        if key in seen:
            continue
        seen.add(key)
        content = sanitize(item.content, item.base_url)
        summary = sanitize(item.summary, item.base_url)
        if content is None:
            content, summary = summary, None
        fields = (item.guid, item.link, item.title, item.author, item.published, item.updated, content,
                  summary, item.enclosures, item.categories)
        records.append(
            ItemRecord(
                key=key,
                hash=_record_hash(fields),
                guid=item.guid,
                link=item.link,
                title=item.title,
                author=item.author,
                published_at=item.published,
                updated_at=item.updated,
                date=sort_date(item, now),
                content=content,
                summary=summary,
                enclosures=item.enclosures,
                categories=item.categories,
            )
        )
    return records


@dataclass(frozen=True, slots=True)
class ItemPlan:
    new: tuple[ItemRecord, ...]
    changed: Mapping[int, ItemRecord]
    unchanged: int


def plan_items(
    records: Iterable[ItemRecord],
    existing: Mapping[str, tuple[int, str]],
    *,
    discard_before: datetime | None = None,
) -> ItemPlan:
    """Split records into new and changed (by key and hash).

    With retention on (``discard_before``), new items already older than
    the cutoff are not stored at all: they would be discarded at once.
    """
    new: list[ItemRecord] = []
    changed: dict[int, ItemRecord] = {}
    unchanged = 0
    for record in records:
        stored = existing.get(record.key)
        if stored is None:
            if discard_before is None or record.date >= discard_before:
                new.append(record)
            continue
        item_id, stored_hash = stored
        if stored_hash == record.hash:
            unchanged += 1
        else:
            changed[item_id] = record
    return ItemPlan(new=tuple(new), changed=changed, unchanged=unchanged)


# -- schedule ---------------------------------------------------------------


def clamp(value: timedelta, low: timedelta = MIN_INTERVAL, high: timedelta = MAX_INTERVAL) -> timedelta:
    return max(low, min(high, value))


def regular_interval(refresh: int | None, publish_interval: float | None) -> timedelta | None:
    """The interval between checks of a healthy feed; None means never.

    ``refresh`` is the admin's setting in seconds (0 = never, None =
    adaptive); adaptive follows how often the feed publishes, clamped.
    """
    if refresh == 0:
        return None
    if refresh is not None:
        return timedelta(seconds=refresh)
    if publish_interval is None:
        return DEFAULT_INTERVAL
    return clamp(timedelta(seconds=publish_interval))


def backoff(error_count: int, rng: random.Random) -> timedelta:
    """Exponential backoff with ±20% jitter: 15 min, 30 min, 1 h … capped at a day."""
    base = MIN_INTERVAL * (2 ** max(0, min(error_count - 1, 16)))
    jittered = base * rng.uniform(0.8, 1.2)
    return min(jittered, MAX_BACKOFF)


def next_check_at(
    now: datetime,
    *,
    refresh: int | None,
    publish_interval: float | None = None,
    error_count: int = 0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to check next; None when the feed is set to never refresh."""
    rng = rng or random.Random()
    interval = regular_interval(refresh, publish_interval)
    if interval is None:
        return None
    if error_count > 0:
        interval = max(backoff(error_count, rng), interval if refresh is not None else timedelta(0))
    if retry_after is not None:
        interval = max(interval, clamp(timedelta(seconds=retry_after), timedelta(0), MAX_BACKOFF))
    return now + interval


def estimate_publish_interval(dates: Iterable[datetime], previous: float | None) -> float | None:
    """Mean seconds between the newest items' dates, smoothed with the
    previous estimate; None when there are too few dated items."""
    ordered = sorted(set(dates), reverse=True)[:20]
    if len(ordered) < 2:
        return previous
    span = (ordered[0] - ordered[-1]).total_seconds()
    estimate = span / (len(ordered) - 1)
    if previous is None:
        return estimate
    return 0.5 * previous + 0.5 * estimate
