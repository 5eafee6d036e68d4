"""Storing a fetched feed body, where the CPU is: in a parse worker.

A refresh's heavy half — decode, parse, sanitize, hash, plan against the
stored items and write them — runs as one call, :func:`store_fetched`, in a
worker process (or a thread for small refreshes), in its own short
transaction. The event loop's process then only fetches: it hands over
compressed bytes and gets back two counts, instead of shipping every
sanitized item back to write it itself (measured at 1,000 feeds: about
3.5 s of the main process's CPU, half of it SQLAlchemy's per-row work).

What a fetch changes on the feed row is decided here by pure functions
(:func:`changes_after_fetch`, :func:`redirect_changes`) that the pipeline
also uses for 304s and errors.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from lenta.fetch import FetchResult
from lenta.storage import Storage
from lenta.storage import open_storage
from lenta.storage.records import FetchLogRecord
from lenta.types import Feed
from lenta.update import decide
from lenta.update import schedule
from lenta.update.process import Processed
from lenta.update.process import process_body


@dataclass(frozen=True, slots=True)
class StoreContext:
    """What a worker needs besides the feed and the body (all picklable)."""

    database: str  # the --db target, reopened in worker processes
    allowed_tags: frozenset[str]
    max_bytes: int
    discard_after: int  # seconds; 0 keeps everything
    now: datetime
    pushed: bool = False  # a WebSub delivery: validators and schedule untouched
    hub_pushes: bool = False  # a hub pushes this feed: poll it more slowly


def stored_hints(feed: Feed, cache_seconds: float | None = None) -> schedule.Hints:
    """The polling hints the feed's last body gave (for 304s and errors),
    with the freshness the latest answer gave, if any."""
    return schedule.Hints(
        ttl_minutes=feed.ttl_minutes, update_period=feed.update_period, update_frequency=feed.update_frequency,
        skip_hours=feed.skip_hours, skip_days=feed.skip_days, cache_seconds=cache_seconds,
    )


def next_check(
    feed: Feed, now: datetime, hints: schedule.Hints, *, hub_pushes: bool, error_count: int = 0,
    retry_after: float | None = None, publish_interval: float | None = None,
) -> datetime | None:
    return schedule.next_check_at(
        now,
        refresh=feed.refresh,
        publish_interval=publish_interval if publish_interval is not None else feed.publish_interval,
        error_count=error_count,
        retry_after=retry_after,
        hints=hints,
        pushed=hub_pushes,
    )


def redirect_changes(feed: Feed, result: FetchResult, url_taken: Callable[[str], bool]) -> dict[str, object]:
    """A permanent redirect moves the feed once it is seen twice in a row
    (and only if no other feed has the new URL)."""
    target = result.permanent_redirect
    if target is None or target == feed.url:
        return {"pending_url": None} if feed.pending_url else {}
    if feed.pending_url != target:
        return {"pending_url": target}
    if url_taken(target):
        return {"pending_url": None}
    return {"url": target, "pending_url": None}


def changes_after_fetch(
    feed: Feed, result: FetchResult, now: datetime, url_taken: Callable[[str], bool]
) -> dict[str, object]:
    """The feed columns any good answer (200 or 304) changes; the error
    columns only when there is an error to clear (most rounds, most feeds
    had none: fewer columns to write)."""
    changes: dict[str, object] = {"checked_at": now, "http_status": result.status}
    if feed.error is not None or feed.error_kind is not None or feed.error_count or feed.gone:
        changes.update(error=None, error_kind=None, error_count=0, gone=False)
    if result.status != 304:
        changes["etag"] = result.validators.etag
        changes["last_modified"] = result.validators.last_modified
    changes.update(redirect_changes(feed, result, url_taken))
    return changes


def changes_after_body(feed: Feed, result: FetchResult, processed: Processed, ctx: StoreContext,
                       url_taken: Callable[[str], bool]) -> dict[str, object]:
    """Everything a parsed body changes on the feed row."""
    parsed = processed.feed
    publish_interval = schedule.estimate_publish_interval((r.date for r in processed.records), feed.publish_interval)
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
    if not ctx.pushed:
        hints = schedule.Hints(
            ttl_minutes=parsed.ttl_minutes, update_period=parsed.update_period,
            update_frequency=parsed.update_frequency, skip_hours=parsed.skip_hours, skip_days=parsed.skip_days,
            cache_seconds=schedule.cache_seconds(result.headers, ctx.now),
        )
        changes.update(changes_after_fetch(feed, result, ctx.now, url_taken))
        changes["next_check_at"] = next_check(feed, ctx.now, hints, hub_pushes=ctx.hub_pushes,
                                              publish_interval=publish_interval)
    return changes


def discard_cutoff(ctx: StoreContext) -> datetime | None:
    """Items older than this are not stored (the "discard items older than" setting)."""
    return ctx.now - timedelta(seconds=ctx.discard_after) if ctx.discard_after else None


def store_fetched(
    storage: Storage, ctx: StoreContext, feed: Feed, result: FetchResult, elapsed: float
) -> tuple[int, int]:
    """Decode, parse, sanitize and store one fetched body; (new, updated).

    ``result.body`` may still be compressed (``result.content_encoding``).
    Raises ParseError / NotAFeedError / FetchError for a body that is not a
    usable feed; the caller stores that as the feed's error.
    """
    started = time.monotonic()
    assert result.body is not None
    processed = process_body(
        result.body, result.url, result.content_type, result.charset, ctx.allowed_tags, ctx.now,
        result.content_encoding, ctx.max_bytes,
    )
    discard_before = discard_cutoff(ctx)
    with storage.db.write() as connection:
        def url_taken(url: str) -> bool:
            return storage.feeds.url_exists(connection, url)

        changes = changes_after_body(feed, result, processed, ctx, url_taken)
        existing = storage.items.existing(connection, feed.id, (r.key for r in processed.records))
        plan = decide.plan_items(processed.records, existing, discard_before=discard_before)
        if plan.new or plan.changed:
            changes["modified_at"] = ctx.now
        log = FetchLogRecord(
            at=ctx.now, outcome="push" if ctx.pushed else "ok", duration=elapsed + time.monotonic() - started,
            status=result.status, bytes=len(result.body), new_items=len(plan.new), updated_items=len(plan.changed),
        )
        storage.apply_feed_write(connection, feed.id, changes, plan.new, plan.changed, log, ctx.now)
    return len(plan.new), len(plan.changed)


@functools.lru_cache(maxsize=4)
def _worker_storage(database: str) -> Storage:
    # One engine per worker process, opened on its first body (the parent
    # has migrated the database already).
    return open_storage(database, migrate=False)


def store_fetched_in_worker(ctx: StoreContext, feed: Feed, result: FetchResult, elapsed: float) -> tuple[int, int]:
    """:func:`store_fetched` for a worker process (picklable arguments only)."""
    return store_fetched(_worker_storage(ctx.database), ctx, feed, result, elapsed)
