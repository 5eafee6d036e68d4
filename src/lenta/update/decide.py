"""Pure decisions of the update pipeline: no I/O, no settings globals, the
clock passed in.

- each item's identity key and sort date, and the records to store
  (:func:`build_records`);
- which parsed items are new, which changed upstream, which are unchanged
  (:func:`plan_items`), by identity key and content hash;
- the sort date of items the feed gives no date (:func:`date_undated`):
  the first time lenta saw them, never above what is known to be newer,
  in the document's order, and never changed once given;

When to check a feed next is :mod:`lenta.update.schedule`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from lenta.parse.model import Enclosure
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
    """Published, else updated, else now; never in the future. (An undated
    item's "now" is provisional: :func:`date_undated` gives its date.)"""
    date = item.published or item.updated or now
    return now if date > now + FUTURE_TOLERANCE else date


@dataclass(frozen=True, slots=True)
class Limits:
    """What one fetch may store: a feed can send anything, and one 15 MB
    document must not become 100,000 items or a front page of one item.
    Lengths are in characters; content and summary are measured after
    sanitizing."""

    items: int = 1000  # per fetch, newest kept (the site setting items_per_fetch)
    # Items of a document the parser reads, all of them in any real feed, so
    # that the newest are kept wherever the feed lists them; but a body of
    # 600,000 tiny items (18 MB) is not built as a tree of them all.
    read: int = 100_000
    title: int = 1000
    author: int = 500
    url: int = 4096  # link, guid, enclosure URLs: longer ones are dropped, not cut
    content: int = 256 * 1024  # content and summary each
    categories: int = 50
    category: int = 200
    enclosures: int = 50


DEFAULT_LIMITS = Limits()


def items_to_read(limits: Limits) -> int:
    """How many items of a document the parser reads (see :attr:`Limits.read`)."""
    return max(limits.read, limits.items)


@dataclass(frozen=True, slots=True)
class Records:
    """The records of one body, and what the bounds cut from it."""

    records: list[ItemRecord]
    dropped_items: int = 0  # over :attr:`Limits.items`, the oldest
    cut_fields: int = 0  # fields shortened or dropped


class _Cuts:
    """Counts the fields the bounds changed while one body's records are built."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def text(self, value: str | None, limit: int) -> str | None:
        if value is None or len(value) <= limit:
            return value
        self.count += 1
        return value[: limit - 1] + "…"

    def url(self, value: str | None, limit: int) -> str | None:
        if value is None or len(value) <= limit:
            return value
        self.count += 1
        return None  # half a URL leads nowhere

    def html(self, value: str | None, base_url: str | None, sanitize: Sanitize, limit: int) -> str | None:
        # Sanitizing is linear in its input (nesting depth is bounded first,
        # see lenta.parse.sanitize.shallow): a body far over the limit is cut
        # first, then cut again after sanitizing, and that cut sanitized once
        # more so that every tag it opened is closed.
        if value is not None and len(value) > 2 * limit:
            value = value[: 2 * limit]
        clean = sanitize(value, base_url)
        if clean is None or len(clean) <= limit:
            return clean
        self.count += 1
        size = limit - 64
        while True:
            shortened = sanitize(clean[:size], base_url) or ""
            if len(shortened) + 1 <= limit or size <= 64:
                return shortened[: limit - 1] + "…"
            size = size * 3 // 4  # escaping and closing tags made it grow: cut deeper


def build_records(parsed: ParsedFeed, sanitize: Sanitize, now: datetime, limits: Limits = DEFAULT_LIMITS) -> Records:
    """Sanitize and normalize a parsed feed's items, in feed order, dropping
    later duplicates of the same key, keeping the newest ``limits.items``
    and every field within its bound."""
    unique: list[tuple[str, ParsedItem]] = []
    seen: set[str] = set()
    for item in parsed.items:
        key = item_key(item)
        if len(key) > limits.url:  # identity kept, size bounded
            key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        unique.append((key, item))
    dropped = 0
    if len(unique) > limits.items:
        dropped = len(unique) - limits.items
        dates = [sort_date(item, now) for _, item in unique]
        newest = sorted(range(len(unique)), key=dates.__getitem__, reverse=True)[: limits.items]  # stable: feed order on ties
        unique = [unique[index] for index in sorted(newest)]
    cuts = _Cuts()
    records: list[ItemRecord] = []
    for key, item in unique:
        content = cuts.html(item.content, item.base_url, sanitize, limits.content)
        summary = cuts.html(item.summary, item.base_url, sanitize, limits.content)
        if content is None:
            content, summary = summary, None
        guid, link = cuts.url(item.guid, limits.url), cuts.url(item.link, limits.url)
        title, author = cuts.text(item.title, limits.title), cuts.text(item.author, limits.author)
        enclosures = _bounded_enclosures(item.enclosures, limits, cuts)
        categories = item.categories
        if len(categories) > limits.categories or any(len(c) > limits.category for c in categories):
            cuts.count += 1
            categories = tuple(c[: limits.category] for c in categories[: limits.categories])
        fields = (guid, link, title, author, item.published, item.updated, content, summary, enclosures, categories)
        records.append(
            ItemRecord(
                key=key,
                hash=_record_hash(fields),
                guid=guid,
                link=link,
                title=title,
                author=author,
                published_at=item.published,
                updated_at=item.updated,
                date=sort_date(item, now),
                content=content,
                summary=summary,
                enclosures=enclosures,
                categories=categories,
            )
        )
    return Records(records, dropped_items=dropped + parsed.skipped_items, cut_fields=cuts.count)


def _bounded_enclosures(enclosures: tuple[Enclosure, ...], limits: Limits, cuts: _Cuts) -> tuple[Enclosure, ...]:
    if len(enclosures) <= limits.enclosures and all(len(e.url) <= limits.url for e in enclosures):
        return enclosures
    cuts.count += 1
    return tuple(e for e in enclosures if len(e.url) <= limits.url)[: limits.enclosures]


def bounded_feed(
    parsed: ParsedFeed, sanitize: Sanitize, base_url: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[ParsedFeed, int]:
    """The feed's own fields, its description sanitized, within the bounds
    (its items are left out: they are :func:`build_records`'), and how
    many fields were cut."""
    cuts = _Cuts()
    feed = dataclasses.replace(
        parsed,
        items=(),
        title=cuts.text(parsed.title, limits.title),
        description=cuts.html(parsed.description, parsed.link or base_url, sanitize, limits.content),
        language=cuts.text(parsed.language, 64),
        link=cuts.url(parsed.link, limits.url),
        image_url=cuts.url(parsed.image_url, limits.url),
        hub_url=cuts.url(parsed.hub_url, limits.url),
        self_url=cuts.url(parsed.self_url, limits.url),
        update_period=cuts.text(parsed.update_period, 16),
    )
    return feed, cuts.count


# How far below the item listed before it an undated item is put when
# nothing below bounds it: a backlog of undated items is spread as if the
# feed had published once an hour, so one fetch of it does not take pages
# of the river at once.
UNDATED_STEP = timedelta(hours=1)


def is_undated(record: ItemRecord) -> bool:
    """Whether the feed gave the item no date (its sort date is lenta's)."""
    return record.published_at is None and record.updated_at is None


def date_undated(
    records: Sequence[ItemRecord],
    stored: Mapping[str, datetime],
    *,
    now: datetime,
    previous_check: datetime | None,
    step: timedelta = UNDATED_STEP,
) -> list[ItemRecord]:
    """``records`` (in document order) with the sort dates of undated items decided.

    An undated item already stored keeps its stored date (``stored``: key →
    sort date), changed or not: a date once given never moves, unless the
    feed later gives the item a date of its own. A new undated item is dated
    the first time lenta sees it (``now``), but never newer than

    - the previous check of the feed (``previous_check``): it appeared
      since then, and dated items published since must not sink below it;
    - on the first check, the newest dated item of the document, if it has
      any: everything a first fetch brings is a backlog, no newer than that;
    - the item listed before it, whose date is known (dated, or stored):
      feeds list their newest first, so the document's order is kept.

    Each run of new undated items goes one ``step`` below the other, or,
    when the item listed after the run has a known date, evenly between its
    neighbours (equal dates are told apart by id: the item listed first is
    inserted last).
    """
    if not any(is_undated(record) for record in records):
        return list(records)
    ceiling = now
    if previous_check is not None:
        ceiling = min(ceiling, previous_check)
    else:
        dated = [record.date for record in records if not is_undated(record)]
        if dated:
            ceiling = min(ceiling, max(dated))
    known: list[datetime | None] = [record.date if not is_undated(record) else stored.get(record.key) for record in records]
    result = list(records)
    start = 0
    while start < len(records):
        date = known[start]
        if date is not None:
            if is_undated(records[start]) and records[start].date != date:
                result[start] = dataclasses.replace(records[start], date=date)
            start += 1
            continue
        end = start
        while end < len(records) and known[end] is None:
            end += 1
        above = known[start - 1] if start > 0 else None
        below = known[end] if end < len(records) else None
        for offset, date in enumerate(_spread(end - start, ceiling, above, below, step)):
            result[start + offset] = dataclasses.replace(records[start + offset], date=date)
        start = end
    return result


def _spread(count: int, ceiling: datetime, above: datetime | None, below: datetime | None, step: timedelta) -> list[datetime]:
    """Dates for ``count`` undated items listed between items dated ``above``
    and ``below`` (None: none listed there), newest first, none above ``ceiling``."""
    top = ceiling if above is None else min(ceiling, above)
    skip = 1 if above is not None and top >= above else 0  # strictly below an older-id item of that date
    if below is None:
        gap = step
    elif below >= top:
        gap = timedelta(0)  # no room: one date, the ids keep the order
    else:
        gap = min(step, (top - below) / (count + skip))
    return [top - (index + skip) * gap for index in range(count)]


@dataclass(frozen=True, slots=True)
class ItemPlan:
    new: tuple[ItemRecord, ...]
    changed: Mapping[int, ItemRecord]
    unchanged: int


def plan_items(
    records: Sequence[ItemRecord],
    existing: Mapping[str, tuple[int, str, datetime]],
    *,
    now: datetime,
    previous_check: datetime | None = None,
    discard_before: datetime | None = None,
) -> ItemPlan:
    """Split records into new and changed (by key and hash), undated ones
    dated first (:func:`date_undated`; ``existing``: key → (item id, hash,
    sort date) of those already stored).

    With retention on (``discard_before``), new items already older than
    the cutoff are not stored at all: they would be discarded at once.
    """
    stored_dates = {key: date for key, (_, _, date) in existing.items()}
    new: list[ItemRecord] = []
    changed: dict[int, ItemRecord] = {}
    unchanged = 0
    for record in date_undated(records, stored_dates, now=now, previous_check=previous_check):
        stored = existing.get(record.key)
        if stored is None:
            if discard_before is None or record.date >= discard_before:
                new.append(record)
            continue
        item_id, stored_hash, _ = stored
        if stored_hash == record.hash:
            unchanged += 1
        else:
            changed[item_id] = record
    return ItemPlan(new=tuple(new), changed=changed, unchanged=unchanged)
