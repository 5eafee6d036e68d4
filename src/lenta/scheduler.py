"""The background refresher: every tick, refresh the feeds that are due.

``lenta worker`` runs :func:`run_forever`; ``lenta serve`` runs it in a
child process (:class:`RefresherProcess`), so that fetching and parsing a
thousand feeds never shares an event loop or an interpreter lock with the
web pages.

It decides nothing itself: which feeds are due is in the database
(``next_check_at``, computed by :mod:`lenta.update.decide`), and the
refresh is :meth:`lenta.core.Lenta.refresh`. Each tick also runs the
WebSub maintenance step (:meth:`lenta.core.Lenta.websub_maintain`) and
fetches a few feed icons that are due (:meth:`lenta.core.Lenta.refresh_icons`).

The web server wakes its refresher when it has made feeds due (an OPML
import, "refresh now" on the admin table): :meth:`RefresherProcess.wake`
writes a byte to the child's standard input, a pipe, and the child starts
a round at once instead of at its next tick. A pipe rather than a signal:
a byte sent while the child is still starting waits in the pipe, where a
signal would kill it. When the pipe closes (the web server is gone), the
child stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Coroutine
from typing import Any
from typing import TypeVar

from lenta.config import Settings
from lenta.config import settings_to_env
from lenta.core import Lenta
from lenta.logs import log_round

log = logging.getLogger(__name__)
T = TypeVar("T")


# Tells the child `lenta worker` that its standard input is RefresherProcess's wake pipe.
WAKE_PIPE_ENV = "_LENTA_WAKE_PIPE"


async def run_forever(lenta: Lenta, *, stop: asyncio.Event | None = None, wake: asyncio.Event | None = None) -> None:
    """Refresh due feeds every ``settings.scheduler_tick`` seconds until
    ``stop`` is set; ``wake`` set starts the next round at once."""
    stop = stop or asyncio.Event()
    wake = wake or asyncio.Event()
    # One client and one parse pool for every round (Lenta.running).
    async with lenta.running():
        while not stop.is_set():
            wake.clear()  # a wake from now on, during the round too, asks for one more round
            try:
                started = time.monotonic()
                log_round(await lenta.refresh(), time.monotonic() - started)
            except Exception:  # keep the loop alive; the error is logged with its traceback
                log.exception("refresh failed")
            try:  # WebSub: subscribe, renew leases, retry, unsubscribe deleted feeds
                websub = await lenta.websub_maintain()
                if websub:
                    log.info("websub: %s", websub)
            except Exception:
                log.exception("websub maintenance failed")
            try:  # readers' webhook calls (notify rules), with their retries
                notified = await _unless_stopped(lenta.deliver_notifications(), stop)
                if notified is not None and (notified.delivered or notified.failed):
                    log.info("notify: %s", notified)
            except Exception:
                log.exception("the notify step failed")
            try:  # feed icons: a few a round, bounded in time (lenta.update.icons)
                icons = await _unless_stopped(lenta.refresh_icons(), stop)
                if icons is not None and icons.tried:
                    log.debug("icons: %s", icons)
            except Exception:
                log.exception("the icon step failed")
            await _first_of(stop, wake, timeout=lenta.settings.scheduler_tick)


async def _unless_stopped(step: Coroutine[Any, Any, T], stop: asyncio.Event) -> T | None:
    """``step``'s result; None, the step cancelled, if ``stop`` is set first:
    icons can wait, a stopping refresher should not (an icon's requests
    hold nothing a later step needs)."""
    task = asyncio.ensure_future(step)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None
    return task.result()


async def _first_of(*events: asyncio.Event, timeout: float) -> None:
    """Wait until one of ``events`` is set, or ``timeout`` seconds."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


class RefresherProcess:
    """``lenta worker`` as a child of the web server, restarted if it dies.

    The child gets the parent's settings through ``LENTA_*`` variables and
    stops cleanly on SIGTERM (it finishes the write in progress);
    :meth:`wake` starts its next round at once.
    """

    RESTART_DELAY = 5.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="lenta-refresher")

    async def _supervise(self) -> None:
        env = {**os.environ, **settings_to_env(self.settings), WAKE_PIPE_ENV: "1"}
        while not self._stopping:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "lenta", "worker", env=env, stdin=asyncio.subprocess.PIPE
            )
            code = await self._process.wait()
            if self._stopping or code == 0:  # 0: it was told to stop (SIGTERM to the process group)
                return
            log.error("the refresher exited with status %s; restarting in %.0f s", code, self.RESTART_DELAY)
            await asyncio.sleep(self.RESTART_DELAY)

    def wake(self) -> bool:
        """Ask the refresher for a round now (feeds were made due). Returns
        False if there is no refresher running to ask (it is restarting)."""
        process = self._process
        if process is None or process.returncode is not None or process.stdin is None:
            return False
        try:
            process.stdin.write(b"\n")  # buffered by the transport: never blocks the web server
        except (OSError, RuntimeError):  # the child just exited; the next one starts with a round
            return False
        return True

    async def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        process = self._process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def run_worker(lenta: Lenta) -> None:
    """``lenta worker``: refresh until SIGTERM or SIGINT."""

    # Read once: the parse processes this one starts are no refresher's children.
    wake_pipe = os.environ.pop(WAKE_PIPE_ENV, "") == "1"

    async def main() -> None:
        stop = asyncio.Event()
        wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        if wake_pipe:
            _listen_for_wakes(loop, sys.stdin.fileno(), wake, stop)
        await run_forever(lenta, stop=stop, wake=wake)

    asyncio.run(main())


def _listen_for_wakes(loop: asyncio.AbstractEventLoop, fd: int, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """Set ``wake`` for each write on the pipe ``fd``; ``stop`` when it closes."""

    def readable() -> None:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            wake.set()
            return
        loop.remove_reader(fd)
        log.info("the web server is gone; the refresher stops")
        stop.set()

    os.set_blocking(fd, False)
    loop.add_reader(fd, readable)
