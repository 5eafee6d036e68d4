"""Decode, parse and sanitize a feed body: pure CPU work, for a worker.

:func:`process_body` turns bytes into a :class:`Processed` (the feed's own
fields and the item records to store); it touches no database and no
network, so it runs equally in a thread or a worker process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lenta.fetch import decode_body
from lenta.parse.model import ParsedFeed
from lenta.storage.records import ItemRecord
from lenta.update import decide

if TYPE_CHECKING:
    from lenta.parse.sanitize import HTMLSanitizer


@dataclass(frozen=True, slots=True)
class Processed:
    """A parsed, sanitized feed body, ready to be planned and stored."""

    feed: ParsedFeed  # items dropped: they are in ``records``
    records: tuple[ItemRecord, ...]
    dropped_items: int = 0  # past the per-fetch cap, oldest first
    cut_fields: int = 0  # fields the bounds shortened or dropped


@functools.lru_cache(maxsize=8)
def _sanitizer(allowed_tags: frozenset[str]) -> HTMLSanitizer:
    from lenta.parse.sanitize import HTMLSanitizer

    return HTMLSanitizer(allowed_tags)


def process_body(
    body: bytes,
    url: str,
    content_type: str | None,
    charset: str | None,
    allowed_tags: frozenset[str],
    now: datetime,
    content_encoding: str | None = None,
    max_bytes: int = 0,
    limits: decide.Limits = decide.DEFAULT_LIMITS,
) -> Processed:
    """Decode + parse + sanitize, CPU only: runs in a worker (thread or process).

    A body still compressed (``content_encoding``) is decoded here, capped
    at ``max_bytes``: the event loop's process only moves bytes. What is
    kept is bounded by ``limits`` (items per fetch, field sizes).
    """
    # Imported here, not at the top: a process that only fetches never parses.
    from lenta.parse.formats import parse_feed

    body = decode_body(body, content_encoding, max_bytes)
    parsed = parse_feed(body, url=url, content_type=content_type, charset=charset, max_items=decide.items_to_read(limits))
    sanitizer = _sanitizer(allowed_tags)
    built = decide.build_records(parsed, sanitizer.sanitize, now, limits)
    header, feed_cuts = decide.bounded_feed(parsed, sanitizer.sanitize, url, limits)
    return Processed(
        feed=header, records=tuple(built.records), dropped_items=built.dropped_items, cut_fields=built.cut_fields + feed_cuts
    )
