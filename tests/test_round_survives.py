"""No feed can stop a round: whatever one feed's answer holds, and whatever
goes wrong inside lenta while handling it, that feed gets its error and
every other feed of the round is fetched and stored as usual — in a
round of its own (``lenta refresh``) and in a long-lived refresher's
(``worker``/``serve``, inside :meth:`Lenta.running`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

import pytest
from httpserver import LocalServer
from httpserver import Reply
from test_update import RSS
from test_update import item
from test_update import rss

import lenta.update as update_module
from lenta.core import Lenta
from lenta.exceptions import StorageError
from lenta.storage import Storage
from lenta.types import Feed
from lenta.types import RefreshSummary

GOOD_FEEDS = 5


def good_routes() -> dict[str, Reply]:
    return {
        f"/good/{n}": Reply(
            body=rss(item(f"Post {n}.1", guid=f"{n}-1"), item(f"Post {n}.2", guid=f"{n}-2")), headers={"Content-Type": RSS}
        )
        for n in range(GOOD_FEEDS)
    }


def add_all(lenta: Lenta, server: LocalServer, paths: list[str]) -> dict[str, int]:
    return {path: asyncio.run(lenta.add_feed(server.url(path), discover=False)).id for path in paths}


async def refresh_running(lenta: Lenta) -> RefreshSummary:
    async with lenta.running():
        return await lenta.refresh(all_feeds=True)


ROUNDS: dict[str, Callable[[Lenta], RefreshSummary]] = {
    "refresh": lambda lenta: asyncio.run(lenta.refresh(all_feeds=True)),  # lenta refresh
    "running": lambda lenta: asyncio.run(refresh_running(lenta)),  # worker and serve
}


def assert_good_feeds_stored(lenta: Lenta, ids: dict[str, int]) -> None:
    for path, feed_id in ids.items():
        if path.startswith("/good/"):
            feed = lenta.get_feed(feed_id)
            assert feed.error is None, (path, feed.error)
            assert lenta.items_page(0, 10, feed_id=feed_id).total == 2, path


@pytest.mark.parametrize("how", sorted(ROUNDS))
@pytest.mark.parametrize("retry_after", ["99999999999999999999", "9" * 5000, "-1", "Fri, 31 Dec 9999 23:59:59 GMT", "1e400"])
def test_an_absurd_retry_after_is_its_feeds_error_only(lenta: Lenta, how: str, retry_after: str) -> None:
    routes = {**good_routes(), "/busy": Reply(status=503, headers={"Retry-After": retry_after})}
    with LocalServer(routes) as server:
        ids = add_all(lenta, server, sorted(routes))
        summary = ROUNDS[how](lenta)
    assert (summary.ok, summary.failed) == (GOOD_FEEDS, 1)
    busy = lenta.get_feed(ids["/busy"])
    assert busy.error_kind == "http_5xx"
    assert busy.next_check_at is not None and busy.checked_at is not None
    # Asked to wait for ages: it waits the longest lenta ever waits, a day.
    assert busy.next_check_at - busy.checked_at <= timedelta(days=1, seconds=1)
    assert_good_feeds_stored(lenta, ids)


@pytest.mark.parametrize("how", sorted(ROUNDS))
def test_a_bug_while_handling_one_feed_is_that_feeds_internal_error(
    lenta: Lenta, how: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # No real input reaches a bug on purpose (that is the point of the rest
    # of the suite), so one is planted: parsing /buggy fails as a bug would.
    real_process_body = update_module.process_body

    def process_body(body: bytes, url: str, *args: object, **kwargs: object) -> object:
        if url.endswith("/buggy"):
            raise RecursionError("maximum recursion depth exceeded")
        return real_process_body(body, url, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(update_module, "process_body", process_body)
    routes = {**good_routes(), "/buggy": Reply(body=rss(item("x", guid="x")), headers={"Content-Type": RSS})}
    with LocalServer(routes) as server, caplog.at_level(logging.ERROR, logger="lenta.update"):
        ids = add_all(lenta, server, sorted(routes))
        summary = ROUNDS[how](lenta)
    assert (summary.ok, summary.failed) == (GOOD_FEEDS, 1)
    buggy = lenta.get_feed(ids["/buggy"])
    assert buggy.error_kind == "internal"
    assert buggy.error is not None and "RecursionError" in buggy.error
    assert buggy.next_check_at is not None  # tried again later, with backoff
    assert lenta.fetch_history(buggy.id)[0].outcome == "internal"
    logged = [r.getMessage() for r in caplog.records if "/buggy" in r.getMessage()]
    assert logged and "Traceback (most recent call last)" in logged[0] and "RecursionError" in logged[0]
    assert_good_feeds_stored(lenta, ids)


def test_a_write_the_database_refuses_loses_only_that_feed(lenta: Lenta, monkeypatch: pytest.MonkeyPatch) -> None:
    # The database refusing one feed's items (a value out of a column's
    # range, say) used to fail the whole batch, and the round with it.
    refused_feed: list[int] = []
    real_apply = Storage.apply_feed_writes

    def apply_feed_writes(
        self: Storage,
        connection: object,
        writes: list[tuple[int, object, tuple[object, ...], object]],
        changed: object,
        now: datetime,
    ) -> None:
        if any(feed_id in refused_feed and new for feed_id, _, new, _ in writes):
            raise StorageError("Database error: {error}", error="value out of range for type integer")
        real_apply(self, connection, writes, changed, now)  # type: ignore[arg-type]

    monkeypatch.setattr(Storage, "apply_feed_writes", apply_feed_writes)
    routes = {**good_routes(), "/refused": Reply(body=rss(item("x", guid="x")), headers={"Content-Type": RSS})}
    with LocalServer(routes) as server:
        ids = add_all(lenta, server, sorted(routes))
        refused_feed.append(ids["/refused"])
        summary = asyncio.run(lenta.refresh(all_feeds=True))
    assert (summary.ok, summary.failed) == (GOOD_FEEDS, 1)
    refused: Feed = lenta.get_feed(ids["/refused"])
    assert refused.error_kind == "internal" and "out of range" in (refused.error or "")
    assert lenta.items_page(0, 10, feed_id=refused.id).total == 0
    assert_good_feeds_stored(lenta, ids)
