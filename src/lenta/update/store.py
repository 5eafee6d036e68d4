"""What a fetch changes on a feed's row and in its fetch log: pure decisions.

Each answer has its function, taking the feed, the answer and the time and
returning a :class:`FeedUpdate` (typed column changes and the fetch-log
row) for the batch writer:

- :func:`after_body`: a parsed body (the feed's own fields, its hints, its
  next check), items to be planned by the writer, then :func:`after_items`;
- :func:`after_not_modified`: a 304;
- :func:`after_error`: any failure, a body that would not parse included
  (:func:`body_error` says which kind).

:func:`changes_after_fetch` (any good answer) and :func:`redirect_changes`
(a permanent redirect, confirmed on the second sight) are their shared
parts. Parsing a body happens in :func:`lenta.update.process.process_body`,
in a worker process or a thread.

Where the items are written was measured (1,000 feeds, 2 cores): parse
workers that each wrote their own feed spent 6.6 s of a round waiting on
each other's write lock, their cores idle; one writer per process that
commits many feeds at once does not wait while anything else could work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from lenta._bounds import clamp_int
from lenta._bounds import clean_text
from lenta._marks import N_
from lenta.credentials import redact
from lenta.credentials import same_origin
from lenta.exceptions import ArgValue
from lenta.exceptions import ErrorMessage
from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import LentaError
from lenta.exceptions import NotAFeedError
from lenta.exceptions import ParseError
from lenta.fetch import FetchResult
from lenta.storage.records import FeedChanges
from lenta.storage.records import FetchLogRecord
from lenta.types import Feed
from lenta.types import FetchOutcome
from lenta.update import schedule
from lenta.update.decide import ItemPlan
from lenta.update.decide import Limits
from lenta.update.process import Processed

MAX_ERROR_LENGTH = 2000  # characters of an error kept on the feed and in its fetch log
MAX_ERROR_ARG_LENGTH = 500  # characters of each text argument of a stored error (a URL, a host)
MAX_ERROR_ARGS = 8  # a message names a few (status, host, line, column...)
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


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """What one answer changes: the feed's columns and its fetch-log row."""

    changes: FeedChanges
    log: FetchLogRecord

    @property
    def outcome(self) -> FetchOutcome:
        return self.log.outcome


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


def redirect_changes(feed: Feed, result: FetchResult, url_taken: Callable[[str], bool]) -> FeedChanges | None:
    """A permanent redirect moves the feed once it is seen twice in a row
    (and only if no other feed has the new URL). None: nothing to change,
    the answer of almost every fetch."""
    target = result.permanent_redirect
    if target is None or target == feed.url:
        return FeedChanges(pending_url=None) if feed.pending_url else None
    if feed.pending_url != target:
        return FeedChanges(pending_url=target)
    if url_taken(target):
        return FeedChanges(pending_url=None)
    if feed.credentials and not same_origin(feed.url, target):
        # They were given for the old origin, not this one.
        return FeedChanges(url=target, pending_url=None, credentials=None)
    return FeedChanges(url=target, pending_url=None)


def changes_after_fetch(
    feed: Feed, result: FetchResult, now: datetime, url_taken: Callable[[str], bool], *, next_check_at: datetime | None
) -> FeedChanges:
    """The feed columns any good answer (200 or 304) changes; the error
    columns only when there is an error to clear (most rounds, most feeds
    had none: fewer columns to write). A round of 304s makes one value per
    feed here, and no more: each costs the construction of every field."""
    if result.status == 304:
        changes = FeedChanges(checked_at=now, http_status=result.status, next_check_at=next_check_at)
    else:
        changes = FeedChanges(
            checked_at=now,
            http_status=result.status,
            next_check_at=next_check_at,
            etag=_validator(result.validators.etag),
            last_modified=_validator(result.validators.last_modified),
        )
    if feed.error is not None or feed.error_kind is not None or feed.error_count or feed.gone:
        changes = dataclasses.replace(changes, error=None, error_kind=None, error_params=None, error_count=0, gone=False)
    redirect = redirect_changes(feed, result, url_taken)
    return changes if redirect is None else changes | redirect


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified worth keeping: a real one is a few dozen
    characters; one of kilobytes would be stored and sent back with every
    request, so it is dropped (the feed is then fetched unconditionally)."""
    return value if value is None or len(value) <= MAX_VALIDATOR_LENGTH else None


def after_not_modified(
    feed: Feed, result: FetchResult, now: datetime, url_taken: Callable[[str], bool], *, hub_pushes: bool, duration: float
) -> FeedUpdate:
    """A 304: the feed was checked, and is checked next by the hints its
    last body gave and the freshness this answer gives."""
    hints = stored_hints(feed, schedule.cache_seconds(result.headers, now))
    next_check_at = next_check(feed, now, hints, hub_pushes=hub_pushes)
    changes = changes_after_fetch(feed, result, now, url_taken, next_check_at=next_check_at)
    return FeedUpdate(changes, FetchLogRecord(at=now, outcome=FetchOutcome.NOT_MODIFIED, duration=duration, status=result.status))


def changes_after_body(
    feed: Feed, result: FetchResult, processed: Processed, ctx: StoreContext, url_taken: Callable[[str], bool]
) -> FeedChanges:
    """Everything a parsed body changes on the feed row."""
    parsed = processed.feed
    publish_interval = schedule.estimate_publish_interval((r.date for r in processed.records), feed.publish_interval)
    changes = FeedChanges(
        feed_title=parsed.title,
        site_url=parsed.link,
        description=parsed.description,
        image_url=parsed.image_url,
        format=parsed.format,
        hub_url=parsed.hub_url,
        self_url=parsed.self_url,
        ttl_minutes=parsed.ttl_minutes,
        update_period=parsed.update_period,
        update_frequency=parsed.update_frequency,
        skip_hours=parsed.skip_hours,
        skip_days=parsed.skip_days,
        publish_interval=publish_interval,
    )
    if ctx.pushed:  # validators and schedule are the polling's
        return changes
    hints = schedule.Hints(
        ttl_minutes=parsed.ttl_minutes,
        update_period=parsed.update_period,
        update_frequency=parsed.update_frequency,
        skip_hours=parsed.skip_hours,
        skip_days=parsed.skip_days,
        cache_seconds=schedule.cache_seconds(result.headers, ctx.now),
    )
    next_check_at = next_check(feed, ctx.now, hints, hub_pushes=ctx.hub_pushes, publish_interval=publish_interval)
    return changes | changes_after_fetch(feed, result, ctx.now, url_taken, next_check_at=next_check_at)


def after_body(
    feed: Feed,
    result: FetchResult,
    processed: Processed,
    ctx: StoreContext,
    url_taken: Callable[[str], bool],
    *,
    duration: float,
) -> FeedUpdate:
    """A parsed body, before its items are planned (:func:`after_items`)."""
    log = FetchLogRecord(
        at=ctx.now,
        outcome=FetchOutcome.PUSH if ctx.pushed else FetchOutcome.OK,
        duration=duration,
        status=result.status,
        bytes=len(result.body or b""),
        dropped_items=processed.dropped_items,
        cut_fields=processed.cut_fields,
    )
    return FeedUpdate(changes_after_body(feed, result, processed, ctx, url_taken), log)


def after_items(update: FeedUpdate, plan: ItemPlan, now: datetime) -> FeedUpdate:
    """A body's update once its items are planned against what is stored:
    new or changed items move the feed's ``modified_at``, and the log
    counts them."""
    changes = update.changes
    if plan.new or plan.changed:
        changes = changes | FeedChanges(modified_at=now)
    log = dataclasses.replace(update.log, new_items=len(plan.new), updated_items=len(plan.changed))
    return FeedUpdate(changes, log)


def changes_after_error(feed: Feed, error: FetchError, now: datetime, *, hub_pushes: bool) -> FeedChanges:
    """Everything a failed fetch changes on the feed row: the error (its
    text made fit for storage), the streak, and when to try again (backoff
    and Retry-After); a 410 stops polling."""
    error_count = feed.error_count + 1
    gone = error.kind == FetchErrorKind.GONE
    return FeedChanges(
        checked_at=now,
        http_status=clamp_int(error.status, 0, MAX_STATUS),
        error=error_text(error),
        error_kind=error.kind,
        error_params=error_params(error),
        error_count=error_count,
        gone=gone,
        next_check_at=None
        if gone
        else next_check(
            feed, now, stored_hints(feed), hub_pushes=hub_pushes, error_count=error_count, retry_after=error.retry_after
        ),
    )


def after_error(
    feed: Feed, error: FetchError, now: datetime, *, hub_pushes: bool, duration: float, body_bytes: int = 0
) -> FeedUpdate:
    """A failed fetch, or a body that could not be used (``body_bytes`` of
    it came)."""
    changes = changes_after_error(feed, error, now, hub_pushes=hub_pushes)
    log = FetchLogRecord(
        at=now,
        outcome=FetchOutcome.of(error.kind),
        duration=duration,
        status=clamp_int(error.status, 0, MAX_STATUS),
        bytes=body_bytes,
        error=error_text(error),
        error_params=error_params(error),
    )
    return FeedUpdate(changes, log)


def body_error(error: ParseError | FetchError, status: int) -> FetchError:
    """The fetch error a body that came but could not be used is stored as:
    not a feed, unparsable, or (already a FetchError) undecodable or over
    the cap once decoded."""
    if isinstance(error, FetchError):
        return error
    kind = FetchErrorKind.NOT_A_FEED if isinstance(error, NotAFeedError) else FetchErrorKind.PARSE
    # The parser's message and arguments, not its English text: they are what is stored.
    args: dict[str, Any] = dict(error.args_for_message)  # Any: none of them is named like a keyword of FetchError
    return FetchError(error.message_id, brief=error.brief_id, kind=kind, status=status, **args)


def error_text(error: Exception) -> str:
    """An error as stored and shown: a server's words can hold anything, and
    a URL quoted in it loses its credentials."""
    return clean_text(redact(str(error)), MAX_ERROR_LENGTH)


def error_params(error: LentaError) -> ErrorMessage:
    """An error as stored for every language (:class:`ErrorMessage`), each
    argument made fit for storage as :func:`error_text` makes the text."""
    message = ErrorMessage.of(error)
    args: dict[str, ArgValue] = {}
    for name, value in list(message.args.items())[:MAX_ERROR_ARGS]:
        args[name] = clean_text(redact(value), MAX_ERROR_ARG_LENGTH) if isinstance(value, str) else value
    return ErrorMessage(message.message, args)


def error_changes(error: FetchError, now: datetime) -> FeedChanges:
    """The error columns of a feed whose first fetch failed (adding a feed):
    the error as :func:`changes_after_error` stores it, without a streak or
    a schedule."""
    return FeedChanges(
        checked_at=now,
        http_status=clamp_int(error.status, 0, MAX_STATUS),
        error=error_text(error),
        error_kind=error.kind,
        error_params=error_params(error),
    )


def internal_error(exc: Exception) -> FetchError:
    """What a feed's record says when lenta itself failed while handling it
    (a bug, or the database refusing its data); the traceback goes to the log."""
    reason = clean_text(redact(f"{type(exc).__name__}: {exc}"), MAX_ERROR_LENGTH // 2)
    return FetchError(
        "lenta failed while handling this feed: {reason}",
        brief=N_("lenta failed while handling this feed."),
        kind=FetchErrorKind.INTERNAL,
        reason=reason,
    )


def discard_cutoff(ctx: StoreContext) -> datetime | None:
    """Items older than this are not stored (the "discard items older than" setting)."""
    return ctx.now - timedelta(seconds=ctx.discard_after) if ctx.discard_after else None
