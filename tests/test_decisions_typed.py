"""A refresh's decisions are typed values made in the pure modules, on the
success path and the error path alike: what the pipeline hands storage is,
object for object, what :mod:`lenta.update.store` decided.

The decisions are not mocked: each is wrapped to remember what it returned
and called through, and the storage the pipeline is given is the real one,
remembering what each batch hands it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from typing import Any

import pytest
from httpserver import LocalServer
from httpserver import Reply
from sqlalchemy import Connection

from lenta.config import Settings
from lenta.exceptions import FetchErrorKind
from lenta.fetch.http import HTTPClient
from lenta.site_settings import SiteSettings
from lenta.storage import Storage
from lenta.storage import open_storage
from lenta.storage.records import FeedChanges
from lenta.storage.records import FetchLogRecord
from lenta.storage.records import ItemRecord
from lenta.types import FetchOutcome
from lenta.update import FeedOutcome
from lenta.update import Pipeline
from lenta.update import store
from lenta.update.store import FeedUpdate

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RSS = "application/rss+xml; charset=utf-8"
FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
    b"<link>https://example.com/</link><description>d</description>"
    b"<item><title>One</title><guid>1</guid></item></channel></rss>"
)
PAGE = b"<!doctype html><html><head><title>Hi</title></head><body><p>No feed here.</p></body></html>"

Write = tuple[int, FeedChanges, Sequence[ItemRecord], FetchLogRecord | None]


class RecordingStorage(Storage):
    """The real storage, keeping every feed's write a batch hands it."""

    def __init__(self, target: str) -> None:
        super().__init__(open_storage(target).db)
        self.writes: list[Write] = []

    def apply_feed_writes(
        self, connection: Connection, writes: Sequence[Write], changed_items: Mapping[int, ItemRecord], now: datetime
    ) -> None:
        self.writes.extend(writes)
        super().apply_feed_writes(connection, writes, changed_items, now)


class Decisions:
    """Every call of the store's decisions: (arguments, result), by name."""

    NAMES = ("after_body", "after_items", "after_not_modified", "after_error")

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: dict[str, list[tuple[tuple[Any, ...], FeedUpdate]]] = {name: [] for name in self.NAMES}
        for name in self.NAMES:
            monkeypatch.setattr(store, name, self._through(name, getattr(store, name)))

    def _through(self, name: str, decide: Callable[..., FeedUpdate]) -> Callable[..., FeedUpdate]:
        def call(*args: Any, **kwargs: Any) -> FeedUpdate:
            result = decide(*args, **kwargs)
            self.calls[name].append((args, result))
            return result

        return call

    def of(self, name: str, feed_id: int) -> list[FeedUpdate]:
        """What ``name`` decided for the feed (after_items: for the update of it it was given)."""
        if name == "after_items":
            bodies = {id(update) for update in self.of("after_body", feed_id)}
            return [result for args, result in self.calls[name] if id(args[0]) in bodies]
        return [result for args, result in self.calls[name] if args[0].id == feed_id]


def test_the_success_and_the_error_path_store_what_the_pure_decisions_return(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = RecordingStorage(settings.database)
    decisions = Decisions(monkeypatch)
    routes = {
        "/feed": Reply(body=FEED, headers={"Content-Type": RSS}, etag='"v1"'),
        "/broken": Reply(status=500, body=b"down"),
        "/page": Reply(body=PAGE, headers={"Content-Type": "text/html; charset=utf-8"}),
    }
    with LocalServer(routes) as server:
        ids = {path: storage.feeds.add(server.url(path), now=NOW, refresh=0).id for path in routes}

        async def refresh(path: str) -> FeedOutcome:
            async with HTTPClient(settings) as client:
                pipeline = Pipeline(storage, client, SiteSettings(), clock=lambda: NOW)
                return await pipeline.refresh_feed(storage.feeds.get(ids[path]))

        outcomes = {path: asyncio.run(refresh(path)) for path in routes}
        again = asyncio.run(refresh("/feed"))  # the ETag is sent back: a 304

    assert {path: outcome.outcome for path, outcome in outcomes.items()} == {
        "/feed": FetchOutcome.OK,
        "/broken": FetchOutcome.HTTP_SERVER,
        "/page": FetchOutcome.NOT_A_FEED,
    }
    assert again.outcome == FetchOutcome.NOT_MODIFIED

    written: dict[int, list[tuple[FeedChanges, FetchLogRecord | None]]] = {}
    for feed_id, changes, _, log in storage.writes:
        assert isinstance(changes, FeedChanges)
        written.setdefault(feed_id, []).append((changes, log))

    def decided(name: str, path: str) -> list[tuple[FeedChanges, FetchLogRecord | None]]:
        return [(update.changes, update.log) for update in decisions.of(name, ids[path])]

    def same(a: list[tuple[FeedChanges, FetchLogRecord | None]], b: list[tuple[FeedChanges, FetchLogRecord | None]]) -> bool:
        return [tuple(map(id, pair)) for pair in a] == [tuple(map(id, pair)) for pair in b]

    # The success path: a body, then its items planned (in the writer,
    # against what is stored), then a 304; each write is the decision itself.
    [body] = decisions.of("after_body", ids["/feed"])
    [items] = decisions.of("after_items", ids["/feed"])
    [not_modified] = decisions.of("after_not_modified", ids["/feed"])
    assert same(written[ids["/feed"]], [(items.changes, items.log), (not_modified.changes, not_modified.log)])
    assert items.changes == body.changes | FeedChanges(modified_at=NOW) and items.log.new_items == 1
    # The error path: a failed fetch, and a body that is not a feed.
    assert same(written[ids["/broken"]], decided("after_error", "/broken"))
    assert same(written[ids["/page"]], decided("after_error", "/page"))
    [broken] = decisions.of("after_error", ids["/broken"])
    [page] = decisions.of("after_error", ids["/page"])
    assert (broken.changes.error_kind, broken.changes.http_status, broken.changes.error_count) == (
        FetchErrorKind.HTTP_SERVER,
        500,
        1,
    )
    assert (page.changes.error_kind, page.log.bytes) == (FetchErrorKind.NOT_A_FEED, len(PAGE))
    assert outcomes["/broken"].error == broken.log.error == broken.changes.error
    # And the stored rows are what was decided.
    assert storage.feeds.get(ids["/broken"]).error_kind == "http_5xx"
    assert [entry.outcome for entry in storage.feeds.fetch_history(ids["/feed"])] == [
        FetchOutcome.NOT_MODIFIED,
        FetchOutcome.OK,
    ]


def test_every_fetch_error_kind_is_a_failed_outcome() -> None:
    assert {FetchOutcome.of(kind) for kind in FetchErrorKind} == {outcome for outcome in FetchOutcome if outcome.failed}
    assert [outcome.value for outcome in FetchOutcome if not outcome.failed] == ["ok", "not_modified", "push"]
