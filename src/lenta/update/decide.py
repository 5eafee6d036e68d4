"""Pure decisions of the update pipeline: no I/O, no settings globals, the
clock passed in.

- each item's identity key and sort date, and the records to store
  (:func:`build_records`);
- which parsed items are new, which changed upstream, which are unchanged
  (:func:`plan_items`), by identity key and content hash;

When to check a feed next is :mod:`lenta.update.schedule`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from lenta.parse.model import ParsedFeed
from lenta.parse.model import ParsedItem
from lenta.storage.records import ItemRecord

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
    """A digest of the stored fields: text is hashed as it is (no repr()
    copies of big bodies), anything else by its repr; fields end with a NUL,
    non-text ones start with \x01, so no two field lists read the same."""
    pieces = [part if isinstance(part, str) else "" if part is None else "\x01" + repr(part) for part in parts]
    pieces.append("")
    return hashlib.sha256("\x00".join(pieces).encode("utf-8", "surrogatepass")).hexdigest()


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
