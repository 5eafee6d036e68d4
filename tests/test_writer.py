"""The batch writer on a real database: feeds' outcomes gathered into few
transactions, and a round's last batch written as soon as it is complete."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest

from lenta.storage import Storage
from lenta.storage import open_storage
from lenta.storage.records import FeedChanges
from lenta.storage.records import FetchLogRecord
from lenta.storage.records import ItemRecord
from lenta.types import FetchOutcome
from lenta.update.store import FeedUpdate
from lenta.update.writer import BatchWriter
from lenta.update.writer import WriteJob

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return open_storage(str(tmp_path / "writer.sqlite"))


def not_modified(feed_id: int) -> WriteJob:
    changes = FeedChanges(checked_at=NOW, http_status=304, next_check_at=NOW + timedelta(hours=1))
    log = FetchLogRecord(at=NOW, outcome=FetchOutcome.NOT_MODIFIED, duration=0.05, status=304)
    return WriteJob(feed_id, FeedUpdate(changes, log), NOW)


def with_items(feed_id: int, count: int) -> WriteJob:
    records = tuple(
        ItemRecord(
            key=f"{feed_id}-{n}",
            hash=f"h{n}",
            guid=f"{feed_id}-{n}",
            link=None,
            title=f"item {n}",
            author=None,
            published_at=None,
            updated_at=None,
            date=NOW,
            content="<p>x</p>",
            summary=None,
        )
        for n in range(count)
    )
    log = FetchLogRecord(at=NOW, outcome=FetchOutcome.OK, duration=0.05, status=200)
    return WriteJob(feed_id, FeedUpdate(FeedChanges(checked_at=NOW, http_status=200), log), NOW, records=records)


def feeds(storage: Storage, count: int) -> list[int]:
    return [storage.feeds.add(f"https://f{n}.example/feed", now=NOW).id for n in range(count)]


def spy_on_batches(writer: BatchWriter) -> list[int]:
    """The size of every batch the writer commits (it still commits them)."""
    sizes: list[int] = []
    apply = writer._apply

    def counting(batch: list[WriteJob]) -> list[tuple[int, int]]:
        sizes.append(len(batch))
        return apply(batch)

    writer._apply = counting  # type: ignore[method-assign]
    return sizes


def test_a_round_all_in_is_written_without_waiting_out_the_linger(storage: Storage) -> None:
    ids = feeds(storage, 3)

    async def round_() -> list[tuple[int, int]]:
        async with BatchWriter(storage, linger=60) as writer:  # a minute: the test would time out
            writer.expect(len(ids))
            return await asyncio.gather(*(writer.write(not_modified(feed_id)) for feed_id in ids))

    assert asyncio.run(asyncio.wait_for(round_(), timeout=10)) == [(0, 0)] * 3
    assert all(feed.http_status == 304 for feed in storage.feeds.list())
    assert all(len(storage.feeds.fetch_history(feed_id)) == 1 for feed_id in ids)


def test_jobs_arriving_while_a_batch_lingers_share_its_transaction(storage: Storage) -> None:
    ids = feeds(storage, 20)

    async def round_() -> list[int]:
        async with BatchWriter(storage, linger=0.5) as writer:
            sizes = spy_on_batches(writer)
            writer.expect(len(ids))

            async def trickle(index: int, feed_id: int) -> tuple[int, int]:
                await asyncio.sleep(0.005 * index)  # all within the first batch's linger
                return await writer.write(not_modified(feed_id))

            await asyncio.gather(*(trickle(i, feed_id) for i, feed_id in enumerate(ids)))
            return sizes

    assert asyncio.run(round_()) == [20]


def test_a_batch_takes_at_most_so_many_items(storage: Storage) -> None:
    ids = feeds(storage, 4)

    async def round_() -> tuple[list[int], list[tuple[int, int]]]:
        async with BatchWriter(storage, linger=0) as writer:
            sizes = spy_on_batches(writer)
            jobs = [writer.write(with_items(feed_id, 300)) for feed_id in ids]  # 1,200 items queued at once
            results = await asyncio.gather(*jobs)
            return sizes, results

    sizes, results = asyncio.run(round_())
    assert results == [(300, 0)] * 4
    assert sizes == [2, 2]  # a batch takes no more jobs once it holds 500 items (MAX_BATCH_ITEMS)
    assert storage.items.count() == 1200
