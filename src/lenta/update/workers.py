"""Worker processes for parsing and sanitizing, so a big refresh uses every
core while the event loop keeps fetching (and serving pages).

The pool starts through a fork server that has imported the parse stack
once: workers start fast and never inherit the threads of the process that
asked for them (forking a threaded process can deadlock).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures import Future
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

if TYPE_CHECKING:  # multiprocessing loads with the first pool, not with every command
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")

# Below this many feeds a refresh parses on a thread: starting processes
# would cost more than it saves.
MIN_FEEDS_FOR_PROCESSES = 16


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def make_parse_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool for :func:`lenta.update.process.process_body`."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["lenta.update.process", "lenta.parse.formats", "lenta.parse.sanitize"])
    return ProcessPoolExecutor(max_workers=workers or cpu_count(), mp_context=context)


class LazyProcessPool(Executor):
    """A parse pool that starts with the first job: a round where every
    feed answers 304 (or fails) never pays for starting processes."""

    def __init__(self, workers: int | None = None) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._starting = threading.Lock()

    @property
    def started(self) -> bool:
        return self._pool is not None

    def start(self) -> None:
        """Start the fork server and a first worker, and wait for them: a
        second or more (the fork server imports the parse stack), so callers
        on an event loop run this on a thread (see the pipeline) rather than
        leave it to the first :meth:`submit`, which would stall every fetch
        under way."""
        with self._starting:
            if self._pool is None:
                pool = make_parse_pool(self._workers)
                pool.submit(os.getpid).result()
                self._pool = pool

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if self._pool is None:
            self.start()
        assert self._pool is not None
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def wants_processes(feed_count: int) -> bool:
    return feed_count >= MIN_FEEDS_FOR_PROCESSES and cpu_count() > 1
