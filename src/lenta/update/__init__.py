"""The update pipeline: the only place that calls fetch, parse and storage.

::

    feeds (due, or asked for)
      │
      ▼
    HTTPClient.fetch ── conditional GET, per-host limits, one client for all
      │        │ 304 ─────────────► changes_after_not_modified ─┐
      │        └ FetchError ──────► changes_after_error ────────┤
      ▼ body                                                    │
    process_body ── parse_feed + sanitize + build_records       │
      │             (off the event loop, in a worker)           │
      ▼                                                         │
    schedule.next_check_at ── pure: when to look again          │
      ▼                                                         ▼
    BatchWriter ── many feeds per short transaction, one at a time ◄┘

Every decision is in :mod:`lenta.update.decide` (items) and
:mod:`lenta.update.schedule` (time); this module only moves data between the
engines. Decompressing, parsing and sanitizing run in ``executor``: a
process pool for big refreshes, so every core works and the event loop only
moves bytes. A failing feed becomes a stored per-feed error, never an
exception out of :meth:`Pipeline.refresh`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from collections.abc import Iterable
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import LentaError
from lenta.exceptions import NotAFeedError
from lenta.exceptions import ParseError
from lenta.fetch import FetchResult
from lenta.fetch import Validators
from lenta.fetch import decode_body
from lenta.fetch.http import HTTPClient
from lenta.parse import parse_feed
from lenta.parse.model import ParsedFeed
from lenta.parse.sanitize import HTMLSanitizer
from lenta.site_settings import SiteSettings
from lenta.storage import Storage
from lenta.storage.records import FetchLogRecord
from lenta.storage.records import ItemRecord
from lenta.types import Feed
from lenta.types import RefreshSummary
from lenta.update import decide
from lenta.update import schedule
from lenta.update.writer import BatchWriter
from lenta.update.writer import WriteJob

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What happened to one feed in one refresh (for progress and summaries)."""

    feed_id: int
    url: str
    outcome: str  # "ok", "not_modified" or a FetchErrorKind value
    new_items: int = 0
    updated_items: int = 0
    error: str | None = None
    seconds: float = 0.0  # from the request to the stored result

    @property
    def failed(self) -> bool:
        return self.outcome not in {"ok", "not_modified", "push"}

    def summary(self) -> RefreshSummary:
        if self.failed:
            return RefreshSummary(failed=1, failures=((self.url, self.error or self.outcome),))
        if self.outcome == "not_modified":
            return RefreshSummary(not_modified=1)
        return RefreshSummary(ok=1, new_items=self.new_items, updated_items=self.updated_items)


@dataclass(frozen=True, slots=True)
class Processed:
    """A parsed, sanitized feed body, ready to be planned and stored."""

    feed: ParsedFeed  # items dropped: they are in ``records``
    records: tuple[ItemRecord, ...]


@functools.lru_cache(maxsize=8)
def _sanitizer(allowed_tags: frozenset[str]) -> HTMLSanitizer:
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
) -> Processed:
    """Decode + parse + sanitize, CPU only: runs in a worker (thread or process).

    A body still compressed (``content_encoding``) is decoded here, capped
    at ``max_bytes``: the event loop's process only moves bytes.
    """
    body = decode_body(body, content_encoding, max_bytes)
    parsed = parse_feed(body, url=url, content_type=content_type, charset=charset)
    sanitizer = _sanitizer(allowed_tags)
    records = decide.build_records(parsed, sanitizer.sanitize, now)
    description = sanitizer.sanitize(parsed.description, parsed.link or url)
    header = ParsedFeed(
        format=parsed.format,
        title=parsed.title,
        link=parsed.link,
        description=description,
        language=parsed.language,
        image_url=parsed.image_url,
        updated=parsed.updated,
        hub_url=parsed.hub_url,
        self_url=parsed.self_url,
        ttl_minutes=parsed.ttl_minutes,
        update_period=parsed.update_period,
        update_frequency=parsed.update_frequency,
        skip_hours=parsed.skip_hours,
        skip_days=parsed.skip_days,
    )
    return Processed(feed=header, records=tuple(records))


class Pipeline:
    """Refreshes feeds: fetch concurrently, process off the loop, store in batches.

    Args:
        storage: where feeds and items live.
        client: the outbound HTTP client (owned by the caller).
        site: the admin's site settings (allowlist, retention).
        concurrency: most feeds in flight at once.
        executor: where parsing runs; None uses the default thread pool.
        clock: returns aware UTC now (tests pass a fixed one).
        pushed: ids of feeds a WebSub hub pushes (polled more slowly).
        max_bytes: the cap on a decoded body (``fetch_max_bytes``).
    """

    def __init__(
        self,
        storage: Storage,
        client: HTTPClient,
        site: SiteSettings,
        *,
        concurrency: int = 32,
        executor: Executor | None = None,
        clock: Clock = utcnow,
        pushed: frozenset[int] = frozenset(),
        max_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self.storage = storage
        self.client = client
        self.site = site
        self.concurrency = concurrency
        self.executor = executor
        self.clock = clock
        self.pushed = pushed
        self.allowed_tags = site.allowed_tags
        self.max_bytes = max_bytes
        self._writer: BatchWriter | None = None

    async def refresh(
        self,
        feeds: Iterable[Feed],
        progress: Callable[[FeedOutcome], None] | None = None,
    ) -> RefreshSummary:
        """Refresh ``feeds`` concurrently; apply retention once at the end."""
        semaphore = asyncio.Semaphore(self.concurrency)
        summary = RefreshSummary()

        async def one(feed: Feed) -> FeedOutcome:
            async with semaphore:
                outcome = await self.refresh_feed(feed)
            if progress is not None:
                progress(outcome)
            return outcome

        async with BatchWriter(self.storage) as writer:
            self._writer = writer
            try:
                outcomes = await asyncio.gather(*(one(feed) for feed in feeds))
            finally:
                self._writer = None
        for outcome in outcomes:
            summary += outcome.summary()
        await self._apply_retention()
        return summary

    async def _apply_retention(self) -> None:
        await asyncio.to_thread(self.storage.feeds.trim_fetch_log)
        if self.site.discard_after:
            cutoff = self.clock() - timedelta(seconds=self.site.discard_after)
            await asyncio.to_thread(self.storage.items.delete_older_than, cutoff)

    async def _write(self, job: WriteJob) -> tuple[int, int]:
        if self._writer is not None:
            return await self._writer.write(job)
        async with BatchWriter(self.storage) as writer:
            return await writer.write(job)

    async def refresh_feed(self, feed: Feed) -> FeedOutcome:
        """Fetch, process and store one feed; errors are stored, not raised."""
        started = time.monotonic()
        try:
            result = await self.client.fetch(feed.url, Validators(feed.etag, feed.last_modified), decode=False)
        except FetchError as error:
            return await self._store_error(feed, error, started)
        if result.not_modified:
            return await self._store_not_modified(feed, result, started)
        assert result.body is not None
        try:
            processed = await self._process(
                result.body, result.url, result.content_type, result.charset, result.content_encoding
            )
        except FetchError as error:  # the body did not decode, or is over the cap once decoded
            return await self._store_error(feed, error, started, result=result)
        except NotAFeedError as error:
            return await self._store_error(
                feed, FetchError(str(error), kind=FetchErrorKind.NOT_A_FEED, status=result.status), started,
                result=result,
            )
        except ParseError as error:
            return await self._store_error(
                feed, FetchError(str(error), kind=FetchErrorKind.PARSE, status=result.status), started,
                result=result,
            )
        return await self._store_success(feed, result, processed, started)

    async def _process(
        self, body: bytes, url: str, content_type: str | None, charset: str | None, encoding: str | None = None
    ) -> Processed:
        loop = asyncio.get_running_loop()
        args = (body, url, content_type, charset, self.allowed_tags, self.clock(), encoding, self.max_bytes)
        try:
            return await loop.run_in_executor(self.executor, process_body, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): finish this refresh on
            # threads rather than fail every remaining feed.
            log.warning("the parse worker pool broke; parsing on threads for the rest of this refresh")
            self.executor = None
            return await loop.run_in_executor(None, process_body, *args)

    async def ingest_push(self, feed: Feed, body: bytes, content_type: str | None, charset: str | None) -> FeedOutcome:
        """Store a body pushed by a WebSub hub exactly as a fetched one would
        be, except that the feed's validators and schedule are left alone."""
        started = time.monotonic()
        try:
            processed = await self._process(body, feed.url, content_type, charset)
        except ParseError as error:
            log.info("pushed body for %s dropped: %s", feed.url, error)
            return FeedOutcome(feed.id, feed.url, str(FetchErrorKind.PARSE), error=str(error))
        result = FetchResult(url=feed.url, status=200, body=body, content_type=content_type, charset=charset)
        return await self._store_success(feed, result, processed, started, pushed=True)

    def _next_check(
        self, feed: Feed, now: datetime, hints: schedule.Hints, *, error_count: int = 0,
        retry_after: float | None = None, publish_interval: float | None = None,
    ) -> datetime | None:
        return schedule.next_check_at(
            now,
            refresh=feed.refresh,
            publish_interval=publish_interval if publish_interval is not None else feed.publish_interval,
            error_count=error_count,
            retry_after=retry_after,
            hints=hints,
            pushed=feed.id in self.pushed,
        )

    async def _store_success(
        self, feed: Feed, result: FetchResult, processed: Processed, started: float, *, pushed: bool = False
    ) -> FeedOutcome:
        now = self.clock()
        parsed = processed.feed
        publish_interval = schedule.estimate_publish_interval(
            (r.date for r in processed.records), feed.publish_interval
        )
        changes: dict[str, object] = {
            "feed_title": parsed.title,
            "site_url": parsed.link,
            "description": parsed.description,
            "image_url": parsed.image_url,
            "format": parsed.format,
            "hub_url": parsed.hub_url,
            "self_url": parsed.self_url,
            "ttl_minutes": parsed.ttl_minutes,
            "update_period": parsed.update_period,
            "update_frequency": parsed.update_frequency,
            "skip_hours": ",".join(str(h) for h in sorted(parsed.skip_hours)) or None,
            "skip_days": ",".join(sorted(parsed.skip_days)) or None,
            "publish_interval": publish_interval,
        }
        if not pushed:
            hints = schedule.Hints(
                ttl_minutes=parsed.ttl_minutes, update_period=parsed.update_period,
                update_frequency=parsed.update_frequency, skip_hours=parsed.skip_hours, skip_days=parsed.skip_days,
                cache_seconds=schedule.cache_seconds(result.headers, now),
            )
            changes.update(self._common_changes(feed, result, now))
            changes["next_check_at"] = self._next_check(feed, now, hints, publish_interval=publish_interval)
        discard_before = now - timedelta(seconds=self.site.discard_after) if self.site.discard_after else None
        log_record = FetchLogRecord(
            at=now, outcome="push" if pushed else "ok", duration=time.monotonic() - started,
            status=result.status, bytes=len(result.body or b""),
        )
        new, updated = await self._write(WriteJob(feed.id, changes, log_record, now, processed.records,
                                                  discard_before))
        return FeedOutcome(feed.id, feed.url, "push" if pushed else "ok", new, updated,
                           seconds=time.monotonic() - started)

    async def _store_not_modified(self, feed: Feed, result: FetchResult, started: float) -> FeedOutcome:
        now = self.clock()
        changes = self._common_changes(feed, result, now)
        changes["next_check_at"] = self._next_check(
            feed, now, replace(stored_hints(feed), cache_seconds=schedule.cache_seconds(result.headers, now))
        )
        log_record = FetchLogRecord(at=now, outcome="not_modified", duration=time.monotonic() - started,
                                    status=result.status)
        await self._write(WriteJob(feed.id, changes, log_record, now))
        return FeedOutcome(feed.id, feed.url, "not_modified", seconds=time.monotonic() - started)

    def _common_changes(self, feed: Feed, result: FetchResult, now: datetime) -> dict[str, object]:
        changes: dict[str, object] = {
            "checked_at": now,
            "http_status": result.status,
            "error": None,
            "error_kind": None,
            "error_count": 0,
            "gone": False,
        }
        if result.status != 304:
            changes["etag"] = result.validators.etag
            changes["last_modified"] = result.validators.last_modified
        changes.update(self._redirect_changes(feed, result))
        return changes

    def _redirect_changes(self, feed: Feed, result: FetchResult) -> dict[str, object]:
        """A permanent redirect moves the feed once it is seen twice in a row."""
        target = result.permanent_redirect
        if target is None or target == feed.url:
            return {"pending_url": None} if feed.pending_url else {}
        if feed.pending_url != target:
            return {"pending_url": target}
        try:
            self.storage.feeds.get_by_url(target)
        except LentaError:
            return {"url": target, "pending_url": None}
        # Another feed already has that URL: keep ours, forget the redirect.
        return {"pending_url": None}

    async def _store_error(
        self, feed: Feed, error: FetchError, started: float, result: FetchResult | None = None
    ) -> FeedOutcome:
        now = self.clock()
        error_count = feed.error_count + 1
        gone = error.kind == FetchErrorKind.GONE
        changes: dict[str, object] = {
            "checked_at": now,
            "http_status": error.status,
            "error": str(error),
            "error_kind": str(error.kind),
            "error_count": error_count,
            "gone": gone,
            "next_check_at": None
            if gone
            else self._next_check(feed, now, stored_hints(feed), error_count=error_count,
                                  retry_after=error.retry_after),
        }
        log_record = FetchLogRecord(
            at=now,
            outcome=str(error.kind),
            duration=time.monotonic() - started,
            status=error.status,
            bytes=len(result.body or b"") if result else 0,
            error=str(error),
        )
        await self._write(WriteJob(feed.id, changes, log_record, now))
        log.info("feed %s failed: %s", feed.url, error)
        return FeedOutcome(feed.id, feed.url, str(error.kind), error=str(error), seconds=time.monotonic() - started)


def stored_hints(feed: Feed) -> schedule.Hints:
    """The polling hints the feed's last body gave (for 304s and errors)."""
    return schedule.Hints(
        ttl_minutes=feed.ttl_minutes, update_period=feed.update_period, update_frequency=feed.update_frequency,
        skip_hours=feed.skip_hours, skip_days=feed.skip_days,
    )
