"""libcurl under asyncio: transfers awaited on the event loop.

lenta's HTTP is libcurl's (through pycurl): HTTP/1.1 keep-alive, HTTP/2
over TLS (ALPN) with multiplexing, TLS verification, all parsed in C. The
reason is CPU: a 304 through libcurl costs a fraction of what it costs
through a pure-Python HTTP stack (httpx/httpcore/h11), and pycurl imports
far faster than aiohttp (the figures are in bench/README.md).

pycurl exposes the multi interface in its "socket action" form: libcurl
says which sockets it wants watched (``M_SOCKETFUNCTION``) and when to be
called back (``M_TIMERFUNCTION``); :class:`CurlLoop` registers those with
the asyncio event loop and, when a socket is ready or the timer fires,
hands control back (``socket_action``). Finished transfers are collected
with ``info_read`` and their futures resolved.

Two rules keep this correct: nothing is done to the multi handle from
inside one of its own callbacks (actions are scheduled on the loop), and a
transfer whose awaiting task is cancelled is removed from the multi handle
at once, which stops it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pycurl

_IN = pycurl.POLL_IN
_OUT = pycurl.POLL_OUT


class CurlError(Exception):
    """A transfer failed inside libcurl: ``code`` is the ``CURLE_*`` number."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ReadTimeout(Exception):
    """No byte arrived for longer than the read timeout."""


class CurlLoop:
    """One libcurl multi handle driven by one asyncio event loop.

    Created inside a running loop (the first request makes it) and bound to
    that loop. ``max_connections`` is the size of libcurl's connection cache:
    idle keep-alive connections beyond it are closed, oldest first.
    """

    def __init__(self, *, max_connections: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_socket)
        self._multi.setopt(pycurl.M_TIMERFUNCTION, self._on_timer)
        self._multi.setopt(pycurl.M_MAXCONNECTS, max_connections)
        self._multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
        self._watched: dict[int, int] = {}  # fd -> POLL_* bits registered with the loop
        self._timer: asyncio.TimerHandle | asyncio.Handle | None = None
        self._futures: dict[pycurl.Curl, asyncio.Future[None]] = {}
        # Idle watch: (timeout, progress) of each transfer, checked by one sweep
        # for all of them rather than a timer each.
        self._idle: dict[pycurl.Curl, tuple[float, Callable[[], float]]] = {}
        self._sweep: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    async def perform(self, handle: pycurl.Curl, *, idle_timeout: float, progress: Callable[[], float]) -> None:
        """Run the transfer set up on ``handle`` to its end.

        ``progress()`` returns the monotonic time of the transfer's last
        activity (its callbacks record it); with no activity for
        ``idle_timeout`` seconds the transfer is stopped with
        :class:`ReadTimeout`.

        Raises:
            CurlError: libcurl failed the transfer.
            ReadTimeout: see above.
        """
        if self._closed:
            raise RuntimeError("the HTTP client is closed")
        future = self._loop.create_future()
        self._futures[handle] = future
        self._idle[handle] = (idle_timeout, progress)
        self._multi.add_handle(handle)
        if self._sweep is None:
            self._sweep = self._loop.call_later(idle_timeout / 4, self._sweep_idle)
        try:
            await future
        finally:
            self._idle.pop(handle, None)
            if self._futures.pop(handle, None) is not None:  # cancelled or timed out: stop it now
                self._multi.remove_handle(handle)

    def _sweep_idle(self) -> None:
        """Stop every transfer idle for longer than its timeout; runs a few
        times per timeout while transfers are under way (late by at most a
        quarter of it)."""
        self._sweep = None
        if not self._idle:
            return
        now = time.monotonic()
        shortest = None
        for handle, (idle_timeout, progress) in list(self._idle.items()):
            shortest = idle_timeout if shortest is None else min(shortest, idle_timeout)
            if progress() + idle_timeout > now:
                continue
            del self._idle[handle]
            future = self._futures.pop(handle, None)
            if future is not None and not future.done():
                self._multi.remove_handle(handle)
                future.set_exception(ReadTimeout())
        if self._idle and shortest is not None and not self._closed:
            self._sweep = self._loop.call_later(shortest / 4, self._sweep_idle)

    # --- callbacks from libcurl: never touch the multi handle here ---------

    def _on_socket(self, what: int, fd: int, multi: object, data: object) -> None:
        old = self._watched.get(fd, 0)
        new = 0 if what == pycurl.POLL_REMOVE else what
        if old & _IN and not new & _IN:
            self._loop.remove_reader(fd)
        if old & _OUT and not new & _OUT:
            self._loop.remove_writer(fd)
        if new & _IN and not old & _IN:
            self._loop.add_reader(fd, self._act, fd, pycurl.CSELECT_IN)
        if new & _OUT and not old & _OUT:
            self._loop.add_writer(fd, self._act, fd, pycurl.CSELECT_OUT)
        if new:
            self._watched[fd] = new
        else:
            self._watched.pop(fd, None)

    def _on_timer(self, timeout_ms: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if timeout_ms == 0:  # "as soon as possible": no need for the timer heap
            self._timer = self._loop.call_soon(self._on_timeout)
        elif timeout_ms > 0:
            self._timer = self._loop.call_later(timeout_ms / 1000, self._on_timeout)

    # --- actions, run by the loop -----------------------------------------

    def _on_timeout(self) -> None:
        self._timer = None
        self._act(pycurl.SOCKET_TIMEOUT, 0)

    def _act(self, fd: int, events: int) -> None:
        if self._closed:
            return
        while True:
            code, _ = self._multi.socket_action(fd, events)
            if code != pycurl.E_CALL_MULTI_PERFORM:
                break
        self._collect()

    def _collect(self) -> None:
        while True:
            queued, succeeded, failed = self._multi.info_read()
            for handle in succeeded:
                self._finish(handle, None)
            for handle, code, message in failed:
                self._finish(handle, CurlError(code, message))
            if not queued:
                return

    def _finish(self, handle: pycurl.Curl, error: CurlError | None) -> None:
        self._multi.remove_handle(handle)
        future = self._futures.pop(handle, None)
        if future is None or future.done():
            return
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)

    def close(self) -> None:
        """Stop every transfer and close every connection."""
        if self._closed:
            return
        self._closed = True
        for handle, future in list(self._futures.items()):
            self._multi.remove_handle(handle)
            if not future.done():
                future.set_exception(CurlError(pycurl.E_ABORTED_BY_CALLBACK, "the HTTP client was closed"))
        self._futures.clear()
        for pending in (self._timer, self._sweep):
            if pending is not None:
                pending.cancel()
        self._timer = self._sweep = None
        self._idle.clear()
        for fd, bits in list(self._watched.items()):
            if bits & _IN:
                self._loop.remove_reader(fd)
            if bits & _OUT:
                self._loop.remove_writer(fd)
        self._watched.clear()
        self._multi.close()
