"""Worker processes for parsing and sanitizing, so a big refresh uses every
core while the event loop keeps fetching (and serving pages).

The pool starts through a fork server that has imported the parse stack
once: workers start fast and never inherit the threads of the process that
asked for them (forking a threaded process can deadlock).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

# Below this many feeds a refresh parses on a thread: starting processes
# would cost more than it saves.
MIN_FEEDS_FOR_PROCESSES = 16


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def make_parse_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool for :func:`lenta.update.process_body`."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["lenta.update"])
    return ProcessPoolExecutor(max_workers=workers or cpu_count(), mp_context=context)


def wants_processes(feed_count: int) -> bool:
    return feed_count >= MIN_FEEDS_FOR_PROCESSES and cpu_count() > 1
