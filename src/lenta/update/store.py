"""What a fetch changes on a feed's row: pure decisions.

:func:`changes_after_fetch` (any good answer), :func:`changes_after_body`
(a parsed body: the feed's own fields, its hints, its next check) and
:func:`redirect_changes` (a permanent redirect, confirmed on the second
sight) take the feed, the answer and the time and return column values;
the pipeline hands them to the batch writer with the items. Parsing a body
happens in :func:`lenta.update.process.process_body`, in a worker process
or a thread.

Where the items are written was measured (1,000 feeds, 2 cores): parse
workers that each wrote their own feed spent 6.6 s of a round waiting on
each other's write lock, their cores idle; one writer per process that
commits many feeds at once does not wait while anything else could work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from lenta._bounds import clamp_int
from lenta._bounds import clean_text
from lenta.credentials import redact
from lenta.credentials import same_origin
from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.fetch import FetchResult
from lenta.types import Feed
from lenta.update import schedule
from lenta.update.decide import Limits
from lenta.update.process import Processed

MAX_ERROR_LENGTH = 2000  # characters of an error kept on the feed and in its fetch log
MAX_STATUS = 999  # HTTP status codes are three digits; a server's "99999" is not stored as such
MAX_VALIDATOR_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class StoreContext:
    """What storing a body needs besides the feed and the answer."""

    allowed_tags: frozenset[str]
    max_bytes: int
    discard_after: int  # seconds; 0 keeps everything
    now: datetime
    pushed: bool = False  # a WebSub delivery: validators and schedule untouched
    hub_pushes: bool = False  # a hub pushes this feed: poll it more slowly
    limits: Limits = Limits()  # what one body may store


def stored_hints(feed: Feed, cache_seconds: float | None = None) -> schedule.Hints:
    """The polling hints the feed's last body gave (for 304s and errors),
    with the freshness the latest answer gave, if any."""
    return schedule.Hints(
        ttl_minutes=feed.ttl_minutes,
        update_period=feed.update_period,
        update_frequency=feed.update_frequency,
        skip_hours=feed.skip_hours,
        skip_days=feed.skip_days,
        cache_seconds=cache_seconds,
    )


def next_check(
    feed: Feed,
    now: datetime,
    hints: schedule.Hints,
    *,
    hub_pushes: bool,
    error_count: int = 0,
    retry_after: float | None = None,
    publish_interval: float | None = None,
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
    moved: dict[str, object] = {"url": target, "pending_url": None}
    if feed.credentials and not same_origin(feed.url, target):
        moved["credentials"] = None  # they were given for the old origin, not this one
    return moved


def changes_after_fetch(feed: Feed, result: FetchResult, now: datetime, url_taken: Callable[[str], bool]) -> dict[str, object]:
    """The feed columns any good answer (200 or 304) changes; the error
    columns only when there is an error to clear (most rounds, most feeds
    had none: fewer columns to write)."""
    changes: dict[str, object] = {"checked_at": now, "http_status": result.status}
    if feed.error is not None or feed.error_kind is not None or feed.error_count or feed.gone:
        changes.update(error=None, error_kind=None, error_count=0, gone=False)
    if result.status != 304:
        changes["etag"] = _validator(result.validators.etag)
        changes["last_modified"] = _validator(result.validators.last_modified)
    changes.update(redirect_changes(feed, result, url_taken))
    return changes


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified worth keeping: a real one is a few dozen
    characters; one of kilobytes would be stored and sent back with every
    request, so it is dropped (the feed is then fetched unconditionally)."""
    return value if value is None or len(value) <= MAX_VALIDATOR_LENGTH else None


def changes_after_body(
    feed: Feed, result: FetchResult, processed: Processed, ctx: StoreContext, url_taken: Callable[[str], bool]
) -> dict[str, object]:
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
            ttl_minutes=parsed.ttl_minutes,
            update_period=parsed.update_period,
            update_frequency=parsed.update_frequency,
            skip_hours=parsed.skip_hours,
            skip_days=parsed.skip_days,
            cache_seconds=schedule.cache_seconds(result.headers, ctx.now),
        )
        changes.update(changes_after_fetch(feed, result, ctx.now, url_taken))
        changes["next_check_at"] = next_check(feed, ctx.now, hints, hub_pushes=ctx.hub_pushes, publish_interval=publish_interval)
    return changes


def changes_after_error(feed: Feed, error: FetchError, now: datetime, *, hub_pushes: bool) -> dict[str, object]:
    """Everything a failed fetch changes on the feed row: the error (its
    text made fit for storage), the streak, and when to try again (backoff
    and Retry-After); a 410 stops polling."""
    error_count = feed.error_count + 1
    gone = error.kind == FetchErrorKind.GONE
    return {
        "checked_at": now,
        "http_status": clamp_int(error.status, 0, MAX_STATUS),
        "error": error_text(error),
        "error_kind": str(error.kind),
        "error_count": error_count,
        "gone": gone,
        "next_check_at": None
        if gone
        else next_check(
            feed, now, stored_hints(feed), hub_pushes=hub_pushes, error_count=error_count, retry_after=error.retry_after
        ),
    }


def error_text(error: Exception) -> str:
    """An error as stored and shown: a server's words can hold anything, and
    a URL quoted in it loses its credentials."""
    return clean_text(redact(str(error)), MAX_ERROR_LENGTH)


def internal_error(exc: Exception) -> FetchError:
    """What a feed's record says when lenta itself failed while handling it
    (a bug, or the database refusing its data); the traceback goes to the log."""
    reason = clean_text(redact(f"{type(exc).__name__}: {exc}"), MAX_ERROR_LENGTH // 2)
    return FetchError("lenta failed while handling this feed: {reason}", kind=FetchErrorKind.INTERNAL, reason=reason)


def discard_cutoff(ctx: StoreContext) -> datetime | None:
    """Items older than this are not stored (the "discard items older than" setting)."""
    return ctx.now - timedelta(seconds=ctx.discard_after) if ctx.discard_after else None
