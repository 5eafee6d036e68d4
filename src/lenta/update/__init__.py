"""The update pipeline: the only place that calls fetch, parse and storage.

::

    feeds (due, or asked for)
      │
      ▼
    HTTPClient.fetch ── conditional GET, per-host limits, one client for all
      │        │ 304 ─────────► after_not_modified ───┐
      │        └ FetchError ──► after_error ──────────┤
      ▼ body (still compressed)                       ▼
    process_body ── in a worker process       BatchWriter ── many feeds per
      or a thread: decode, parse,  ─records─►   short transaction, one
      sanitize, then after_body                 batch at a time; items
      (schedule.next_check_at:                  planned against what is
       when to look again)                      stored, inside it

Every decision is in :mod:`lenta.update.decide` (items),
:mod:`lenta.update.schedule` (time) and :mod:`lenta.update.store` (feed
columns and the fetch log, as typed :class:`~lenta.update.store.FeedUpdate`
values, for a body and a failure alike); this module only moves data
between the engines. For big refreshes
the executor is a process pool, so every core works and the event loop only
moves bytes. A failing feed becomes a stored per-feed error, never an
exception out of :meth:`Pipeline.refresh`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import traceback
from collections.abc import Callable
from collections.abc import Iterable
from concurrent.futures import BrokenExecutor
from concurrent.futures import Executor
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from lenta.credentials import masked
from lenta.credentials import redact
from lenta.credentials import with_userinfo
from lenta.exceptions import FetchError
from lenta.exceptions import LentaError
from lenta.exceptions import ParseError
from lenta.fetch import FetchResult
from lenta.fetch import Validators
from lenta.fetch.http import HTTPClient
from lenta.site_settings import SiteSettings
from lenta.storage import Storage
from lenta.types import Feed
from lenta.types import FetchOutcome
from lenta.types import RefreshSummary
from lenta.update import store
from lenta.update.decide import Limits
from lenta.update.order import fetch_order
from lenta.update.process import Processed
from lenta.update.process import process_body
from lenta.update.store import StoreContext
from lenta.update.workers import LazyProcessPool
from lenta.update.writer import BatchWriter
from lenta.update.writer import WriteJob

__all__ = ["Pipeline", "FeedOutcome", "Processed", "RefreshProgress", "apply_retention", "process_body", "utcnow"]

log = logging.getLogger(__name__)

PARSE_THREADS = 2  # measured at 1,000 feeds, sharded over 2 cores: 1 thread 13.6 s, 2 threads 13.1 s, 3 threads 14.6 s

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What happened to one feed in one refresh (for progress and summaries)."""

    feed_id: int
    url: str
    outcome: FetchOutcome
    new_items: int = 0
    updated_items: int = 0
    error: str | None = None
    seconds: float = 0.0  # from the request to the stored result

    @property
    def failed(self) -> bool:
        return self.outcome.failed


def summarize(outcomes: Iterable[FeedOutcome]) -> RefreshSummary:
    """The round's summary: the outcomes counted, in one pass."""
    counts = {"ok": 0, "not_modified": 0, "new_items": 0, "updated_items": 0}
    failures: list[tuple[str, str]] = []
    for outcome in outcomes:
        if outcome.failed:
            failures.append((outcome.url, outcome.error or outcome.outcome.value))
        elif outcome.outcome == FetchOutcome.NOT_MODIFIED:
            counts["not_modified"] += 1
        else:
            counts["ok"] += 1
            counts["new_items"] += outcome.new_items
            counts["updated_items"] += outcome.updated_items
    return RefreshSummary(failed=len(failures), failures=tuple(failures), **counts)


@dataclass(frozen=True, slots=True)
class RefreshProgress:
    """Where a refresh round is, as its progress callback hears it: once
    when it starts (``done`` 0, no ``outcome``), then once per feed as it
    finishes, in whichever process it ran."""

    total: int  # feeds in the round
    done: int  # feeds finished so far, this one included
    outcome: FeedOutcome | None = None  # the feed that just finished


def log_feed_error(feed: Feed, kind: str, status: int | None, error: str | None) -> None:
    """The warning of a feed that failed (:mod:`lenta.logs`): its URL as an
    admin sees it (credentials as ``***``), the error already redacted."""
    url = masked(feed.url, feed.credentials)
    log.warning(
        "feed %d failed: %s: %s",
        feed.id,
        url,
        error or kind,
        extra={"event": "feed_error", "feed_id": feed.id, "url": url, "kind": kind, "status": status, "error": error},
    )


def apply_retention(storage: Storage, site: SiteSettings, now: datetime) -> None:
    """Once a round is over: trim the fetch log, drop items past the
    site's "discard items older than"."""
    storage.feeds.trim_fetch_log()
    if site.discard_after:
        storage.items.delete_older_than(now - timedelta(seconds=site.discard_after))


class Pipeline:
    """Refreshes feeds: fetch concurrently, process and store in workers.

    Args:
        storage: where feeds and items live.
        client: the outbound HTTP client (owned by the caller).
        site: the admin's site settings (allowlist, retention).
        concurrency: most requests on the wire at once (the client's
            limit); twice as many feeds may be under way.
        executor: a process pool that parses bodies (the items come back to
            the batch writer); None: two threads of this process.
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
        self.limits = Limits(items=site.items_per_fetch)
        self._writer: BatchWriter | None = None
        # Feeds under way, bodies being stored included: a bound on memory.
        # The client limits requests on the wire to ``concurrency`` itself,
        # after each host's own limit; twice that here leaves room for feeds
        # waiting on their host. A 304 or an error gives its slot back before
        # its few columns are written.
        self._slots = asyncio.Semaphore(2 * concurrency)
        self._threads: ThreadPoolExecutor | None = None

    async def refresh(
        self,
        feeds: Iterable[Feed],
        progress: Callable[[FeedOutcome], None] | None = None,
        *,
        retention: bool = True,
    ) -> RefreshSummary:
        """Refresh ``feeds`` concurrently; apply retention once at the end
        (unless ``retention`` is False: the caller does it, once for many)."""

        async def one(feed: Feed) -> FeedOutcome:
            outcome = await self.refresh_feed(feed)
            if progress is not None:
                progress(outcome)
            return outcome

        ordered = fetch_order(feeds)
        async with BatchWriter(self.storage) as writer:
            self._writer = writer
            writer.expect(len(ordered))  # every feed ends in one write
            try:
                outcomes = await asyncio.gather(*(one(feed) for feed in ordered))
            finally:
                self._writer = None
                self._close_threads()
        summary = summarize(outcomes)
        if retention:
            await self._apply_retention()
        return summary

    def _parse_thread(self) -> ThreadPoolExecutor:
        # Parsing without worker processes: on threads of this process, few
        # of them, since the GIL lets one run Python at a time (lxml and nh3
        # release it while they work, hence more than one).
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=PARSE_THREADS, thread_name_prefix="lenta-parse")
        return self._threads

    async def _apply_retention(self) -> None:
        await asyncio.to_thread(apply_retention, self.storage, self.site, self.clock())

    async def _write(self, job: WriteJob) -> tuple[int, int]:
        if self._writer is not None:
            return await self._writer.write(job)
        async with BatchWriter(self.storage) as writer:
            return await writer.write(job)

    def _context(self, feed: Feed, *, pushed: bool = False) -> StoreContext:
        return StoreContext(
            allowed_tags=self.allowed_tags,
            max_bytes=self.max_bytes,
            discard_after=self.site.discard_after,
            now=self.clock(),
            pushed=pushed,
            hub_pushes=feed.id in self.pushed,
            limits=self.limits,
        )

    async def refresh_feed(self, feed: Feed) -> FeedOutcome:
        """Fetch, process and store one feed; errors are stored, not raised.

        Whatever happens inside, this returns the feed's outcome: a failure
        of lenta's own (a bug, the database refusing this feed's data)
        becomes the feed's ``internal`` error, with the traceback logged, and
        the other feeds of the round go on."""
        started = time.monotonic()
        try:
            return await self._refresh_feed(feed, started)
        except Exception as exc:
            return await self._store_internal_error(feed, exc, started)

    async def _refresh_feed(self, feed: Feed, started: float) -> FeedOutcome:
        failure: FetchError | None = None
        async with self._slots:
            started = time.monotonic()
            try:
                result = await self.client.fetch(
                    with_userinfo(feed.url, feed.credentials), Validators(feed.etag, feed.last_modified), decode=False
                )
            except FetchError as error:
                failure = error
            else:
                if not result.not_modified:
                    return await self._store_body(feed, result, started)
        # A 304 or an error: the slot is free again before its few columns are written.
        if failure is not None:
            return await self._store_error(feed, failure, started)
        return await self._store_not_modified(feed, result, started)

    async def _store_internal_error(self, feed: Feed, exc: Exception, started: float) -> FeedOutcome:
        # The traceback as text, credentials in any URL it quotes masked.
        trace = redact("".join(traceback.format_exception(exc)))
        log.error("feed %s: lenta failed while handling it\n%s", feed.url, trace)
        error = store.internal_error(exc)
        try:
            return await self._store_error(feed, error, started)
        except Exception:  # not even the error could be stored (the database is down): report it all the same
            log.exception("feed %s: its error could not be stored", feed.url)
            return FeedOutcome(
                feed.id, feed.url, FetchOutcome.of(error.kind), error=str(error), seconds=time.monotonic() - started
            )

    async def _store_body(self, feed: Feed, result: FetchResult, started: float, *, pushed: bool = False) -> FeedOutcome:
        context = self._context(feed, pushed=pushed)
        elapsed = time.monotonic() - started
        try:
            try:
                new, updated = await self._parse_then_write(feed, result, context, elapsed)
            except BrokenExecutor:  # BrokenProcessPool, without importing multiprocessing for its name
                # A worker died (killed, out of memory): finish this refresh
                # on threads rather than fail every remaining feed.
                log.warning("the parse worker pool broke; working on threads for the rest of this refresh")
                self.executor = None
                return await self._store_body(feed, result, started, pushed=pushed)
        except (ParseError, FetchError) as error:  # not a feed, unparsable, undecodable, over the cap once decoded
            return await self._store_error(feed, store.body_error(error, result.status), started, result=result)
        outcome = FetchOutcome.PUSH if pushed else FetchOutcome.OK
        return FeedOutcome(feed.id, feed.url, outcome, new, updated, seconds=time.monotonic() - started)

    async def _parse_then_write(self, feed: Feed, result: FetchResult, context: StoreContext, elapsed: float) -> tuple[int, int]:
        """Decode, parse and sanitize in a worker process (or, without a pool,
        on a thread of this one), then hand the records to the batch writer.
        What parses so never waits for the database's write lock (another
        refresher may hold it), and many feeds share a transaction."""
        assert result.body is not None
        started = time.monotonic()
        executor = self.executor if self.executor is not None else self._parse_thread()
        if isinstance(executor, LazyProcessPool) and not executor.started:
            await asyncio.to_thread(executor.start)  # not on this thread: fetches under way would stall
        processed = await asyncio.get_running_loop().run_in_executor(
            executor,
            functools.partial(
                process_body,
                result.body,
                result.url,
                result.content_type,
                result.charset,
                context.allowed_tags,
                context.now,
                result.content_encoding,
                context.max_bytes,
                context.limits,
            ),
        )
        update = store.after_body(
            feed, result, processed, context, self._url_taken, duration=elapsed + time.monotonic() - started
        )
        return await self._write(
            WriteJob(
                feed.id,
                update,
                context.now,
                records=processed.records,
                discard_before=store.discard_cutoff(context),
                previous_check=feed.checked_at,
            )
        )

    async def store_fetched(self, feed: Feed, result: FetchResult) -> FeedOutcome:
        """Store a body fetched outside a round (the check that a URL gives a
        feed, when the feed is added) exactly as a round's fetch would be:
        items, validators, schedule, the fetch log. Errors are stored, not
        raised, as in :meth:`refresh_feed`."""
        started = time.monotonic()
        try:
            return await self._store_body(feed, result, started)
        except Exception as exc:
            return await self._store_internal_error(feed, exc, started)
        finally:
            self._close_threads()

    def _close_threads(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=False)
            self._threads = None

    async def ingest_push(self, feed: Feed, body: bytes, content_type: str | None, charset: str | None) -> FeedOutcome:
        """Store a body pushed by a WebSub hub exactly as a fetched one would
        be, except that the feed's validators and schedule are left alone."""
        result = FetchResult(url=feed.url, status=200, body=body, content_type=content_type, charset=charset)
        outcome = await self._store_body(feed, result, time.monotonic(), pushed=True)
        if outcome.failed:
            log.info("pushed body for %s dropped: %s", feed.url, outcome.error)
        return outcome

    def _url_taken(self, url: str) -> bool:
        try:
            self.storage.feeds.get_by_url(url)
        except LentaError:
            return False
        return True

    async def _store_not_modified(self, feed: Feed, result: FetchResult, started: float) -> FeedOutcome:
        now = self.clock()
        update = store.after_not_modified(
            feed, result, now, self._url_taken, hub_pushes=feed.id in self.pushed, duration=time.monotonic() - started
        )
        await self._write(WriteJob(feed.id, update, now))
        return FeedOutcome(feed.id, feed.url, update.outcome, seconds=time.monotonic() - started)

    async def _store_error(self, feed: Feed, error: FetchError, started: float, result: FetchResult | None = None) -> FeedOutcome:
        now = self.clock()
        update = store.after_error(
            feed,
            error,
            now,
            hub_pushes=feed.id in self.pushed,
            duration=time.monotonic() - started,
            body_bytes=len(result.body or b"") if result else 0,
        )
        await self._write(WriteJob(feed.id, update, now))
        log_feed_error(feed, str(error.kind), update.log.status, update.log.error)
        return FeedOutcome(feed.id, feed.url, update.outcome, error=update.log.error, seconds=time.monotonic() - started)
