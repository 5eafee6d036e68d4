"""One writer for a refresh: many feeds' outcomes per short transaction.

Fetching and parsing run many at a time; writes go through here one batch
at a time, on a worker thread when the batch carries items (a 304's or an
error's few columns are written on the event loop's own thread: quicker
than the hand-over). A batch gathers for :data:`LINGER` seconds
after its first job (and while the previous one commits), so a busy
refresh commits a couple of hundred feeds at once (few commits, few lock
acquisitions: a commit costs more than the rows of a 304) and a quiet one
commits a feed at most a few hundredths of a second after it arrives;
nobody waits on that but the round's accounting, since a feed gives its
fetch slot back first. A batch holds the write lock for milliseconds:
readers never wait (WAL), and an admin's form write waits at most one batch.

Item planning happens inside the transaction, against the rows it will
change: :func:`lenta.update.decide.plan_items` and
:func:`lenta.update.store.after_items` are pure, the writer only feeds them
what is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from lenta.storage import Storage
from lenta.storage.records import FeedChanges
from lenta.storage.records import FetchLogRecord
from lenta.storage.records import ItemRecord
from lenta.update import decide
from lenta.update import store

MAX_BATCH = 256  # a batch of 304s is a few milliseconds of writing
MAX_BATCH_ITEMS = 500  # items of parsed bodies in one batch: some tens of milliseconds
LINGER = 0.05  # seconds a batch waits for more jobs after its first


@dataclass(slots=True)
class WriteJob:
    """One feed's outcome to store. ``records`` is None when no body came
    (304, error); then only the feed's columns and the log change."""

    feed_id: int
    update: store.FeedUpdate
    now: datetime
    records: tuple[ItemRecord, ...] | None = None
    discard_before: datetime | None = None
    previous_check: datetime | None = None  # the feed's check before this one: undated items are not newer
    future: asyncio.Future[tuple[int, int]] = field(init=False)


def _settle(job: WriteJob, result: tuple[int, int] = (0, 0), *, error: Exception | None = None) -> None:
    """Tell the job's caller how it went, unless the caller stopped waiting
    (cancelled): the writer itself must outlive any one job."""
    if job.future.done():
        return
    if error is not None:
        job.future.set_exception(error)
    else:
        job.future.set_result(result)


class BatchWriter:
    """Use as ``async with BatchWriter(storage) as writer``; ``await
    writer.write(job)`` returns (new items, updated items)."""

    def __init__(self, storage: Storage, *, max_batch: int = MAX_BATCH, linger: float = LINGER) -> None:
        self.storage = storage
        self.max_batch = max_batch
        self.linger = linger
        # Jobs still to come (see expect): once all are in, nothing is worth waiting for.
        self._expected = 0
        self._all_in = asyncio.Event()
        self._all_in.set()
        self._queue: asyncio.Queue[WriteJob | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> BatchWriter:
        self._task = asyncio.create_task(self._run(), name="lenta-writer")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._queue.put(None)
        if self._task is not None:
            await self._task

    def expect(self, jobs: int) -> None:
        """Say that ``jobs`` more jobs are coming (one per feed of a round):
        a batch stops lingering once the last of them has arrived, so the
        round's end does not wait out the linger."""
        self._expected += jobs
        if self._expected > 0:
            self._all_in.clear()

    async def write(self, job: WriteJob) -> tuple[int, int]:
        job.future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(job)  # unbounded: never waits
        if self._expected > 0:
            self._expected -= 1
            if self._expected == 0:
                self._all_in.set()
        return await job.future

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                return
            if self.linger and self._queue.qsize() < self.max_batch and not self._all_in.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.linger):
                        await self._all_in.wait()
            batch = [first]
            items = len(first.records or ())
            while len(batch) < self.max_batch and items < MAX_BATCH_ITEMS and not self._queue.empty():
                job = self._queue.get_nowait()
                if job is None:
                    stopping = True
                    break
                batch.append(job)
                items += len(job.records or ())
            try:
                results = await self._apply_here_or_thread(batch, items)
            except Exception as error:
                if len(batch) == 1:
                    _settle(batch[0], error=error)
                    continue
                # One feed's data may be what the database refused: each job
                # again on its own, so only that feed fails (its caller stores
                # the failure as the feed's error) and the others are kept.
                for job in batch:
                    try:
                        (result,) = await self._apply_here_or_thread([job], len(job.records or ()))
                    except Exception as alone:
                        _settle(job, error=alone)
                    else:
                        _settle(job, result)
                continue
            for job, result in zip(batch, results):
                _settle(job, result)

    async def _apply_here_or_thread(self, batch: list[WriteJob], items: int) -> list[tuple[int, int]]:
        if items:
            return await asyncio.to_thread(self._apply, batch)
        # Only feed columns and log rows (304s, errors): a few
        # milliseconds, cheaper here than handing over to a thread.
        return self._apply(batch)

    def _apply(self, batch: list[WriteJob]) -> list[tuple[int, int]]:
        results = []
        writes: list[tuple[int, FeedChanges, tuple[ItemRecord, ...], FetchLogRecord]] = []
        changed_all: dict[int, ItemRecord] = {}
        with self.storage.db.write() as connection:
            for job in batch:
                update = job.update
                new: tuple[ItemRecord, ...] = ()
                changed: Mapping[int, ItemRecord] = {}
                if job.records is not None:
                    existing = self.storage.items.existing(connection, job.feed_id, (r.key for r in job.records))
                    plan = decide.plan_items(
                        job.records,
                        existing,
                        now=job.now,
                        previous_check=job.previous_check,
                        discard_before=job.discard_before,
                    )
                    update = store.after_items(update, plan, job.now)
                    new, changed = plan.new, plan.changed
                writes.append((job.feed_id, update.changes, new, update.log))
                changed_all.update(changed)
                results.append((len(new), len(changed)))
            self.storage.apply_feed_writes(connection, writes, changed_all, batch[0].now)
        return results
